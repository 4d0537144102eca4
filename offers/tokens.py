"""Signed links for offers: the offer id, its nonce and what the link is for, signed with the
secret key.

The signature stops tampering and guessing; the nonce ties a link to one offer row; the purpose
keeps the unsubscribe link (which mailbox providers see and POST to) from ever accepting a
contract. Single use and expiry are decided by the offer itself (its status and expires_at), so
a used or lapsed link stays dead whatever the signature says.
"""

from __future__ import annotations

from typing import Literal

from django.core import signing

from offers.models import ConversionOffer

# Named for the app the offers lived in when the first links were sent: a new salt would void
# every link already in a client's inbox.
SALT = "contracts.conversion-offer"
Purpose = Literal["offer", "unsubscribe"]


class OfferLinkInvalid(Exception):
    """The link was tampered with, truncated, meant for something else, or names no offer."""


def offer_token(offer: ConversionOffer, purpose: Purpose = "offer") -> str:
    # dumps() yields URL-safe base64 and colons: safe in a path segment as it is.
    return signing.dumps([offer.pk, offer.nonce, purpose], salt=SALT, compress=False)


def offer_from_token(token: str, purpose: Purpose = "offer") -> ConversionOffer:
    """Return the offer a link names; raise OfferLinkInvalid for anything else."""
    try:
        offer_id, nonce, meant_for = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise OfferLinkInvalid from None
    if not isinstance(offer_id, int) or not isinstance(nonce, str) or meant_for != purpose:
        raise OfferLinkInvalid
    offer = (
        ConversionOffer.objects.select_related("client", "plan__calendar", "contact")
        .filter(pk=offer_id, nonce=nonce)
        .first()
    )
    if offer is None:
        raise OfferLinkInvalid
    return offer
