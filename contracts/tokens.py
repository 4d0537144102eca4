"""Signed links for offers: the offer id and its nonce, signed with the secret key.

The signature stops tampering and guessing; the nonce ties a link to one offer row; single use
and expiry are decided by the offer itself (its status and expires_at), so a used or lapsed
link stays dead whatever the signature says.
"""

from __future__ import annotations

from django.core import signing

from contracts.models import ConversionOffer

SALT = "contracts.conversion-offer"


class OfferLinkInvalid(Exception):
    """The link was tampered with, truncated, or names no offer."""


def offer_token(offer: ConversionOffer) -> str:
    # dumps() yields URL-safe base64 and colons: safe in a path segment as it is.
    return signing.dumps([offer.pk, offer.nonce], salt=SALT, compress=False)


def offer_from_token(token: str) -> ConversionOffer:
    """Return the offer a link names; raise OfferLinkInvalid for anything else."""
    try:
        offer_id, nonce = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise OfferLinkInvalid from None
    if not isinstance(offer_id, int) or not isinstance(nonce, str):
        raise OfferLinkInvalid
    offer = (
        ConversionOffer.objects.select_related("client", "plan", "contact")
        .filter(pk=offer_id, nonce=nonce)
        .first()
    )
    if offer is None:
        raise OfferLinkInvalid
    return offer
