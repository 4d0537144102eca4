"""The pricing rule of a contract month and the split of logged time: pure, property-tested."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import Period, PeriodError, months_between
from billing.pricing import contract_month, included_minutes, prorated, split_minutes

prices = st.decimals(min_value=0, max_value=100_000, places=2)
hours = st.decimals(min_value=0, max_value=500, places=2)


@pytest.mark.parametrize(
    ("days", "of", "fee"),
    [(30, 30, "600.00"), (16, 30, "320.00"), (1, 31, "19.35"), (31, 31, "600.00")],
)
def test_a_part_month_costs_its_share_of_days(days: int, of: int, fee: str) -> None:
    # 600 * 16 / 30 = 320; 600 / 31 = 19.3548... -> 19.35
    assert prorated(Decimal("600.00"), days, of) == Decimal(fee)


def test_included_hours_shrink_with_the_share_rounded_down_to_the_minute() -> None:
    assert included_minutes(Decimal("10"), 30, 30) == 600
    assert included_minutes(Decimal("10"), 16, 30) == 320
    assert included_minutes(Decimal("2.5"), 1, 31) == 4  # 150 / 31 = 4.8 -> 4


@given(price=prices, days_in_month=st.integers(28, 31), data=st.data())
def test_a_prorated_fee_never_exceeds_the_monthly_price(
    price: Decimal, days_in_month: int, data: st.DataObject
) -> None:
    days = data.draw(st.integers(1, days_in_month))
    fee = prorated(price, days, days_in_month)
    assert Decimal(0) <= fee <= price
    assert fee == fee.quantize(Decimal("0.01"))
    if days == days_in_month:
        assert fee == price


@given(
    entries=st.lists(st.integers(1, 960), max_size=40),
    allowance=st.integers(0, 12_000),
)
def test_the_split_of_a_month_of_entries_covers_exactly_the_allowance_then_bills(
    entries: list[int], allowance: int
) -> None:
    used = 0
    billed = 0
    for minutes in entries:
        covered, beyond = split_minutes(minutes, allowance=allowance, used=used)
        assert covered >= 0
        assert beyond >= 0
        assert covered + beyond == minutes
        # Nothing is billed while included minutes are left.
        assert beyond == 0 or used + covered == allowance
        used += covered
        billed += beyond
    total = sum(entries)
    assert used == min(total, allowance)
    assert billed == max(0, total - allowance)


@given(
    price=prices,
    included=hours,
    rate=st.decimals(min_value=0, max_value=1_000, places=2),
    worked=st.integers(0, 50_000),
    days_in_month=st.integers(28, 31),
    data=st.data(),
)
def test_a_contract_month_bills_only_the_work_beyond_its_included_minutes(
    price: Decimal,
    included: Decimal,
    rate: Decimal,
    worked: int,
    days_in_month: int,
    data: st.DataObject,
) -> None:
    days = data.draw(st.integers(1, days_in_month))
    month = contract_month(
        monthly_price=price,
        included_hours=included,
        overage_rate=rate,
        worked_minutes=worked,
        days_covered=days,
        days_in_month=days_in_month,
    )
    assert month.overage_minutes == max(0, worked - included_minutes(included, days, days_in_month))
    assert month.total == month.fee + month.overage
    assert month.overage >= 0


def test_a_month_the_contract_does_not_cover_costs_nothing() -> None:
    month = contract_month(
        monthly_price=Decimal("600"),
        included_hours=Decimal("10"),
        overage_rate=Decimal("100"),
        worked_minutes=900,
        days_covered=0,
        days_in_month=30,
    )
    assert month.total == 0


@pytest.mark.parametrize(
    "text",
    [
        "2026-13",
        "2026-00",
        "26-11",
        "2026/11",
        "",
        "²⁰²⁶-11",
        "\u0662\u0660\u0662\u0666-\u0661\u0661",
        "x" * 500,
    ],
)
def test_a_period_that_is_not_a_month_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(PeriodError, match="not a month"):
        Period.parse(text)


def test_periods_know_their_days_and_neighbours() -> None:
    february = Period.parse("2024-02")
    assert (february.days, february.label, str(february)) == (29, "February 2024", "2024-02")
    assert february.previous == Period(2024, 1)
    assert Period(2024, 12).next == Period(2025, 1)
    assert months_between(Period(2024, 11), Period(2025, 2)) == [
        Period(2024, 11),
        Period(2024, 12),
        Period(2025, 1),
        Period(2025, 2),
    ]
    assert months_between(Period(2025, 2), Period(2025, 1)) == []
