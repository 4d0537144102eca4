"""The one pricing rule for a contract month, shared by the billing run and the offers' replay.

Pure functions, no ORM, so they can be property-tested. The rule (README, "Billing"):
- A month the contract covers in full costs its monthly price. A month it covers in part costs
  the same share of the price as the share of the month's days it covers, rounded to the cent;
  the included hours shrink by the same share, rounded down to the minute.
- Work on a day the contract covers draws on that month's included hours, first logged first
  served; what is beyond them is overage, billed at the plan's overage rate.
- Work on a day no contract covers is labour at the rate card's hourly rate (or its after-hours
  rate, when one is set, for work outside the business calendar).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clients.money import ZERO, cents, for_minutes, money

ONE = Decimal("1.00")


def prorated(monthly_price: Decimal, days_covered: int, days_in_month: int) -> Decimal:
    """The fee for `days_covered` of a month's days, rounded to the cent."""
    if days_covered >= days_in_month:
        return cents(monthly_price)
    return cents(monthly_price * days_covered / days_in_month)


def included_minutes(included_hours: Decimal, days_covered: int, days_in_month: int) -> int:
    """The included minutes of a month the contract covers `days_covered` days of."""
    full = int(included_hours * 60)
    if days_covered >= days_in_month:
        return full
    return full * days_covered // days_in_month


def split_minutes(minutes: int, *, allowance: int, used: int) -> tuple[int, int]:
    """Split `minutes` of work into (covered, beyond) given the month's allowance and use so far."""
    covered = max(0, min(minutes, allowance - used))
    return covered, minutes - covered


@dataclass(frozen=True)
class ContractMonth:
    """What one month of a contract costs: its fee and its overage."""

    fee: Decimal
    included_minutes: int
    overage_minutes: int
    overage: Decimal

    @property
    def total(self) -> Decimal:
        return self.fee + self.overage


def contract_month(
    *,
    monthly_price: Decimal,
    included_hours: Decimal,
    overage_rate: Decimal,
    worked_minutes: int,
    days_covered: int,
    days_in_month: int,
    charged_minutes: int = 0,
) -> ContractMonth:
    """Price a month of work under a contract: the (prorated) fee plus the overage.

    `charged_minutes` of the overage were charged already, one entry at a time (time logged
    before billing runs existed), and are not charged again.
    """
    if days_covered <= 0:
        return ContractMonth(fee=ZERO, included_minutes=0, overage_minutes=0, overage=ZERO)
    allowance = included_minutes(included_hours, days_covered, days_in_month)
    _, beyond = split_minutes(worked_minutes, allowance=allowance, used=0)
    overage_minutes = max(0, beyond - charged_minutes)
    return ContractMonth(
        fee=prorated(monthly_price, days_covered, days_in_month),
        included_minutes=allowance,
        overage_minutes=overage_minutes,
        overage=for_minutes(overage_rate, overage_minutes),
    )


def priced_as(
    quantity: Decimal, unit_amount: Decimal, amount: Decimal, description: str
) -> tuple[Decimal, Decimal, str]:
    """The quantity, unit amount and description an invoice line of `amount` shows.

    Whoever reads the line (the client, or accounting software importing it) multiplies quantity
    by unit amount, and software rounds by its own rule. Hours
    are rounded to the cent of an hour while the amount was priced from the minutes (95 min is
    1.58 h, 1.58 x 125.00 = 197.50, but the line is 197.92), so unless the product is the amount
    exactly, the line goes out as 1 x amount with the hours and the rate in the description.
    """
    if quantity * unit_amount == amount:
        return quantity, unit_amount, description
    return ONE, amount, f"{description} ({quantity} h at {money(abs(unit_amount))}/h)"
