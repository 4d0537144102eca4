"""The words of a client's history for offer events (clients.ClientEvent.summary), shared by the
services that write them, so a line reads the same whoever wrote it."""

from __future__ import annotations

from typing import Any

from contracts.history import price_terms


def offer_terms(offer: Any) -> str:
    return price_terms(
        offer.plan.name, offer.monthly_price, offer.discount_percent, "loyalty discount"
    )


def offer_made(offer: Any) -> str:
    return f"Offered {offer_terms(offer)} to {offer.email}"


def offer_moment(offer: Any) -> str:
    return f"Offered {offer_terms(offer)} to {offer.email} at the moment of need: it {offer.need}"


def _short(text: str, limit: int = 100) -> str:
    # A line of history is 500 characters at most: two names of 200 would push the rest out.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def offer_accepted(offer: Any) -> str:
    version = offer.terms.version if offer.terms is not None else "unknown"
    return (
        f"Accepted {offer_terms(offer)} online on terms version {version}, signed by "
        f"{_short(offer.signer_name)} ({_short(offer.signer_role)}), from "
        f"{offer.accepted_ip or 'an unknown address'}"
    )


def offer_declined(offer: Any) -> str:
    return f"Declined {offer_terms(offer)}"


def unsubscribed(email: str) -> str:
    return f"Unsubscribed from contract offers by the link sent to {email}"
