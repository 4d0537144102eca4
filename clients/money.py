"""Money: the one place that rounds, formats and parses amounts.

Amounts are Decimal, never float. Rounding is half-up to the cent, as invoices round; every
amount the app stores or shows has been through `cents()`, and every amount a person reads has
been through `money()` (the `|money` template filter in pages and emails).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# "1234.5", "$1,234.50": digits with an optional dollar sign and thousands commas in their
# places. "12,50" is refused rather than read as 1250 (a decimal comma, not a thousands one).
AMOUNT = re.compile(r"^\$?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def cents(amount: Decimal | int) -> Decimal:
    """Round to the cent, half up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def discounted(price: Decimal, discount_percent: Decimal) -> Decimal:
    """Return `price` less a percentage discount, rounded to the cent."""
    return cents(price * (HUNDRED - discount_percent) / HUNDRED)


def for_minutes(hourly_rate: Decimal, minutes: int) -> Decimal:
    """What `minutes` of work cost at `hourly_rate`, rounded to the cent."""
    return cents(hourly_rate * minutes / 60)


def as_hours(minutes: int) -> Decimal:
    """Minutes as hours, to two places (how the ledger records the work billed)."""
    return cents(Decimal(minutes) / 60)


def hours(value: Decimal | int) -> str:
    """Hours as people write them: "10", "8.5", "0.75" (not "10.00" or "1E+1")."""
    return f"{Decimal(value).normalize():f}"


def money(amount: Decimal | int | None) -> str:
    """An amount as people read it: "$1,234.50", "-$12.00"; empty for no amount."""
    if amount is None:
        return ""
    value = cents(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def percent(value: Decimal | int) -> str:
    """A percentage as people write it: "8%", "8.5%", "10%" (not "8.00%" or "1E+1%")."""
    return f"{Decimal(value).normalize():f}%"


def parse_money(text: str) -> Decimal:
    """Read an amount someone typed ("125", "$1,250.00"); raise ValueError for anything else.

    More than two decimal places are refused, not rounded: "12.345" is a typo, not 12.35.
    """
    raw = text.strip()
    if not AMOUNT.match(raw):
        raise ValueError(f"{text!r} is not an amount like 125.00")
    try:
        value = Decimal(raw.lstrip("$").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(f"{text!r} is not an amount like 125.00") from None
    if value != cents(value):
        raise ValueError(f"{text!r} has more than two decimal places")
    return cents(value)
