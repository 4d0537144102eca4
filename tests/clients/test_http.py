"""The client's address (clients.http.client_ip): REMOTE_ADDR, unless the deployment says how many
proxies of its own stand in front; then the address the outermost of them saw, and nothing the
client wrote into X-Forwarded-For itself."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from clients.http import client_ip, forwarded_client, valid_ip

PROXY = "10.0.0.2"  # the address of the proxy nearest the app: REMOTE_ADDR behind a proxy


def _request(remote: str = PROXY, forwarded_for: str | None = None) -> Any:
    meta = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **meta)  # type: ignore[arg-type]


ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None).map(str)
addresses = st.one_of(ipv4, ipv6)
# What a client may put in the header itself: anything a header can carry but a comma.
spoofed = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters=","))


# --- No trusted proxy: the header is anyone's --------------------------------------------------
@given(remote=addresses, header=st.text(max_size=200))
def test_without_trusted_proxies_the_header_is_ignored_whatever_it_says(remote, header):
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(_request(remote, header)) == valid_ip(remote)


def test_without_trusted_proxies_the_address_is_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request("203.0.113.7")) == "203.0.113.7"
    assert client_ip(_request("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


# --- Behind trusted proxies ---------------------------------------------------------------------
def test_behind_one_proxy_the_client_is_the_last_address_in_the_header(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(_request(PROXY, "203.0.113.7")) == "203.0.113.7"


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(settings):
    # The outer proxy (a load balancer) saw the client and appended it; the inner one (nginx)
    # appended the load balancer's address and connected to the app from 10.0.0.2.
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(_request(PROXY, "203.0.113.7, 10.0.0.1")) == "203.0.113.7"


@given(
    client=addresses,
    forged=st.lists(spoofed, max_size=5),
    hops=st.lists(addresses, min_size=0, max_size=4),
)
def test_what_the_client_wrote_into_the_header_never_becomes_its_address(client, forged, hops):
    # The client sends "X-Forwarded-For: <forged>, ..."; each of our len(hops) + 1 proxies
    # appends the address it was reached from.
    header = ", ".join([*forged, client, *hops])

    with override_settings(TRUSTED_PROXY_COUNT=len(hops) + 1):
        assert client_ip(_request(PROXY, header)) == client


def test_an_ipv6_client_behind_a_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(_request(PROXY, "2001:db8::1")) == "2001:db8::1"
    # Written out in full, it is stored in the usual short form.
    assert client_ip(_request(PROXY, "2001:0db8:0000:0000:0000:0000:0000:0001")) == "2001:db8::1"


def test_an_ipv4_address_seen_by_a_dual_stack_socket_is_the_ipv4_address(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request("::ffff:203.0.113.7")) == "203.0.113.7"


@pytest.mark.parametrize("proxies", [2, 3])
def test_a_header_with_fewer_entries_than_proxies_falls_back_to_remote_addr(proxies, settings):
    # The request skipped the outer proxy (or a proxy was removed and the setting kept):
    # the one entry there is cannot be vouched for.
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_ip(_request(PROXY, "203.0.113.7")) == PROXY


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_header_behind_a_proxy_falls_back_to_remote_addr(header, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(_request(PROXY, header)) == PROXY


@pytest.mark.parametrize(
    "entry",
    [
        "unknown",
        "203.0.113.7:51234",  # a port
        "[2001:db8::1]:443",
        "fe80::1%eth0",  # a zone index: meaningless off the proxy's own link
        "203.0.113.256",
        "",
        "<script>",
        "203.0.113.7 203.0.113.8",
    ],
)
def test_garbage_where_the_client_should_be_falls_back_to_remote_addr(entry, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(_request(PROXY, f"198.51.100.1, {entry}")) == PROXY


def test_garbage_left_of_the_client_is_never_read(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(_request(PROXY, "not an address,, ;DROP, 203.0.113.7")) == "203.0.113.7"


def test_spaces_around_the_entries_do_not_matter(settings):
    settings.TRUSTED_PROXY_COUNT = 2

    assert client_ip(_request(PROXY, " 203.0.113.7 ,10.0.0.1 ")) == "203.0.113.7"


@pytest.mark.parametrize("remote", ["", "garbage", "unix:/run/gunicorn.sock"])
def test_no_address_at_all_is_none_not_garbage(remote, settings):
    # gunicorn on a unix socket leaves REMOTE_ADDR empty; the database column takes only
    # addresses.
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(_request(remote)) is None


@given(header=st.text(max_size=300), proxies=st.integers(min_value=0, max_value=6))
def test_whatever_the_header_the_answer_is_an_address_or_none(header, proxies):
    found = forwarded_client(header, proxies)

    assert found is None or ipaddress.ip_address(found)
    if proxies == 0:
        assert found is None


@given(address=addresses)
def test_a_valid_address_reads_back_as_itself(address):
    assert valid_ip(address) == str(ipaddress.ip_address(address))
