"""The words of a client's history for contract events (clients.ClientEvent.summary).

One function per kind of line, used by the services that write the history and the demo data,
so a line reads the same whoever wrote it. They read plain fields only (never a model's
__str__), so that they work on any object with those fields.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clients.money import money, percent

CANCELLED = "cancelled"  # ContractStatus.CANCELLED, as stored


def discount_note(discount_percent: Decimal, label: str = "off") -> str:
    """ " (8% off)" after a price; nothing without a discount."""
    return f" ({percent(discount_percent)} {label})" if discount_percent else ""


def price_terms(
    plan_name: str, monthly_price: Decimal, discount_percent: Decimal, label: str
) -> str:
    """ "Standard at $450.80 a month (8% off)"."""
    return f"{plan_name} at {money(monthly_price)} a month{discount_note(discount_percent, label)}"


def contract_terms(contract: Any) -> str:
    """The contract in a line: plan, price, discount and term."""
    price = price_terms(
        contract.plan.name, contract.monthly_price, contract.discount_percent, "off"
    )
    return f"{price}, {contract.starts_on:%Y-%m-%d} to {contract.ends_on:%Y-%m-%d}"


def contract_started(contract: Any, *, from_offer: bool) -> str:
    source = " from the offer the client accepted" if from_offer else ""
    return f"Started {contract_terms(contract)}{source}"


def renewal_notice(contract: Any) -> str:
    next_price = f"{money(contract.renewal_price)} a month"
    ends = " (the first-term discount ends)" if contract.discount_ends_with_term else ""
    return (
        f"Told the {contract.plan.name} contract renews on the day after "
        f"{contract.ends_on:%Y-%m-%d} at {next_price}{ends}"
    )


def contract_renewed(contract: Any) -> str:
    return f"Renewed {contract_terms(contract)}"


def contract_ended(contract: Any) -> str:
    verb = "Cancelled" if contract.status == CANCELLED else "Ended"
    return f"{verb} {contract.plan.name}: {contract.end_reason}"
