"""clients.money: the one place that rounds, formats and parses amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from clients.money import (
    as_hours,
    cents,
    discounted,
    for_minutes,
    hours,
    money,
    parse_money,
    percent,
)

amounts = st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2)


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [("2.345", "2.35"), ("2.344", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01"), ("7", "7.00")],
)
def test_cents_round_half_up(amount: str, rounded: str) -> None:
    assert cents(Decimal(amount)) == Decimal(rounded)


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("0"), "$0.00"),
        (Decimal("-12"), "-$12.00"),
        (Decimal("999999.995"), "$1,000,000.00"),
        (3, "$3.00"),
        (None, ""),
    ],
)
def test_money_reads_as_dollars_and_cents(amount: Decimal | int | None, shown: str) -> None:
    assert money(amount) == shown


@given(amounts)
def test_what_money_shows_parses_back_to_the_same_amount(amount: Decimal) -> None:
    if amount >= 0:
        assert parse_money(money(amount)) == amount


@pytest.mark.parametrize("typed", ["125", "125.5", "$1,250.00", " 0.99 ", "1250"])
def test_parse_money_reads_what_people_type(typed: str) -> None:
    assert parse_money(typed) == cents(Decimal(typed.strip().lstrip("$").replace(",", "")))


@pytest.mark.parametrize("typed", ["12,50", "-5", "abc", "", "1e3", "NaN", "12.345", "1,2345"])
def test_parse_money_refuses_anything_else(typed: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimal places"):
        parse_money(typed)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("8", "8%"),
        ("8.00", "8%"),
        ("8.50", "8.5%"),
        ("10.00", "10%"),
        ("100", "100%"),
        ("0.25", "0.25%"),
    ],
)
def test_a_percentage_is_written_as_people_write_it(value, text):
    assert percent(Decimal(value)) == text


@pytest.mark.parametrize(
    ("price", "discount", "expected"),
    [
        (Decimal("500.00"), Decimal("0"), Decimal("500.00")),
        (Decimal("500.00"), Decimal("10"), Decimal("450.00")),
        (Decimal("99.99"), Decimal("12.5"), Decimal("87.49")),  # 87.49125 rounds down
        (Decimal("99.99"), Decimal("5"), Decimal("94.99")),  # 94.9905 rounds down
        (Decimal("500.00"), Decimal("100"), Decimal("0.00")),
    ],
)
def test_a_discounted_price_is_rounded_to_the_cent(price, discount, expected):
    result = discounted(price, discount)

    assert result == expected
    assert result.as_tuple().exponent == -2


@given(amounts.filter(lambda a: a >= 0), st.decimals(min_value=0, max_value=100, places=2))
def test_a_discounted_price_is_never_above_the_price_nor_below_zero(
    price: Decimal, discount: Decimal
) -> None:
    assert Decimal(0) <= discounted(price, discount) <= price


def test_work_is_priced_by_the_minute_and_rounded_once() -> None:
    assert for_minutes(Decimal("125.00"), 50) == Decimal("104.17")
    assert as_hours(50) == Decimal("0.83")


@pytest.mark.parametrize(
    ("value", "text"),
    [("10.00", "10"), ("8.50", "8.5"), ("0.75", "0.75"), ("0.00", "0"), ("120", "120")],
)
def test_hours_are_written_as_people_write_them(value, text):
    assert hours(Decimal(value)) == text


def test_the_template_filters_use_the_same_rules() -> None:
    page = Template(
        "{% load money %}{{ a|money }} at {{ d|percent }} off; {{ none|money }}; {{ h|hours }} h."
    )
    shown = page.render(
        Context({"a": Decimal("1234.5"), "d": Decimal("8.50"), "none": None, "h": Decimal("8.50")})
    )
    assert shown == "$1,234.50 at 8.5% off; ; 8.5 h."
