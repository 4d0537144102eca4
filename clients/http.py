"""Who sent a request: the client's address, read only as far as the deployment's proxies vouch.

Every app that records or counts an address (the acceptance of an offer, the login lockout)
asks here, so they agree on who a client is.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def valid_ip(value: str) -> str | None:
    """Return `value` as a normalised IP address, or None if it is not one.

    An IPv4 address written as IPv6 (`::ffff:203.0.113.7`, what a dual-stack socket reports)
    becomes the IPv4 address; a zone index (`fe80::1%eth0`) or a port makes it no address: the
    database column takes neither.
    """
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
    return str(address)


def forwarded_client(forwarded_for: str, proxies: int) -> str | None:
    """The address the outermost of `proxies` trusted proxies saw, from an X-Forwarded-For
    value: the `proxies`-th entry from the right (each proxy appends the address it was
    reached from; the last one's own address is REMOTE_ADDR). None when the header has fewer
    entries or that entry is no address.

    Everything left of that entry came from the client and may be anything: it is never read.
    """
    if proxies < 1:
        return None
    entries = forwarded_for.split(",")
    if not forwarded_for.strip() or len(entries) < proxies:
        return None
    return valid_ip(entries[-proxies])


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
    outermost one saw (falling back to REMOTE_ADDR if the header does not have it)."""
    remote = valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies < 1:
        # No proxy vouches for the header: anyone can send one, so it is ignored entirely.
        return remote
    forwarded = forwarded_client(request.META.get("HTTP_X_FORWARDED_FOR", ""), proxies)
    return forwarded or remote
