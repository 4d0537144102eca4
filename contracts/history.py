"""The words of a client's history for contract and offer events (clients.ClientEvent.summary).

One function per kind of line, used by the services that write the history, the demo data and
the migration that backfilled it, so a line reads the same whoever wrote it. They read plain
fields only (never a model's __str__), so they work on a migration's historical models too.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

CANCELLED = "cancelled"  # contracts.models.ContractStatus.CANCELLED (historical models use str)


def percent_text(percent: Decimal) -> str:
    """A percentage as people write it: 8%, 8.5%, 10% (not 8.00% or 1E+1%)."""
    return f"{Decimal(percent).normalize():f}%"


def price_terms(
    plan_name: str, monthly_price: Decimal, discount_percent: Decimal, label: str
) -> str:
    """ "Standard at $450.80 a month (8% off)"; no brackets without a discount."""
    discount = f" ({percent_text(discount_percent)} {label})" if discount_percent else ""
    return f"{plan_name} at ${monthly_price:,.2f} a month{discount}"


def contract_terms(contract: Any) -> str:
    """The contract in a line: plan, price, discount and term."""
    price = price_terms(
        contract.plan.name, contract.monthly_price, contract.discount_percent, "off"
    )
    return f"{price}, {contract.starts_on:%Y-%m-%d} to {contract.ends_on:%Y-%m-%d}"


def contract_started(contract: Any, *, from_offer: bool) -> str:
    source = " from the offer the client accepted" if from_offer else ""
    return f"Started {contract_terms(contract)}{source}"


def contract_renewed(contract: Any) -> str:
    return f"Renewed {contract_terms(contract)}"


def contract_ended(contract: Any) -> str:
    verb = "Cancelled" if contract.status == CANCELLED else "Ended"
    return f"{verb} {contract.plan.name}: {contract.end_reason}"


def offer_terms(offer: Any) -> str:
    return price_terms(
        offer.plan.name, offer.monthly_price, offer.discount_percent, "loyalty discount"
    )


def offer_made(offer: Any) -> str:
    return f"Offered {offer_terms(offer)} to {offer.email}"


def offer_accepted(offer: Any, ip: str | None) -> str:
    return f"Accepted {offer_terms(offer)} online, from {ip or 'an unknown address'}"


def offer_declined(offer: Any) -> str:
    return f"Declined {offer_terms(offer)}"


def unsubscribed(email: str) -> str:
    return f"Unsubscribed from contract offers by the link sent to {email}"
