"""The campaign's pure rules: loyalty discount, the replay of a year, fit, and the rules row."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.periods import Period
from billing.pricing import contract_month
from offers.campaign import (
    Fit,
    MonthUsage,
    OfferedPlan,
    best_replay,
    fit,
    loyalty_discount,
    need_shown,
    replay,
)
from offers.models import CampaignSettings
from tests.conftest import TODAY


def _rules(**overrides: Any) -> CampaignSettings:
    """The campaign rules as a plain object (not saved): the pure functions need no database."""
    values = {
        "base_discount_percent": Decimal("5.00"),
        "tenure_bonus_percent_per_year": Decimal("1.00"),
        "max_discount_percent": Decimal("12.00"),
        **overrides,
    }
    return CampaignSettings(**values)


# --- loyalty_discount -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("customer_since", "today", "expected"),
    [
        # Less than a year: the base alone.
        (dt.date(2024, 6, 1), TODAY, "5.00"),
        # Four full years to the day: base 5 + 4 x 1.
        (dt.date(2021, 3, 10), TODAY, "9.00"),
        # The day before the third anniversary still counts two years...
        (dt.date(2022, 3, 11), TODAY, "7.00"),
        # ...and on the anniversary itself the third year is full.
        (dt.date(2022, 3, 11), dt.date(2025, 3, 11), "8.00"),
        # A later month in an earlier year is not a full year yet.
        (dt.date(2023, 12, 31), dt.date(2024, 12, 30), "5.00"),
        (dt.date(2023, 12, 31), dt.date(2024, 12, 31), "6.00"),
        # A customer since 29 February completes a year on 1 March in common years...
        (dt.date(2020, 2, 29), dt.date(2021, 2, 28), "5.00"),
        (dt.date(2020, 2, 29), dt.date(2021, 3, 1), "6.00"),
        # ...and on 29 February in leap years.
        (dt.date(2020, 2, 29), dt.date(2024, 2, 28), "8.00"),
        (dt.date(2020, 2, 29), dt.date(2024, 2, 29), "9.00"),
        # Twenty years would be 25%: the cap holds it at 12%.
        (dt.date(2005, 1, 1), TODAY, "12.00"),
        # Exactly at the cap: seven years.
        (dt.date(2018, 3, 10), TODAY, "12.00"),
        # A start date in the future (a typo in the admin) gives the base, never less.
        (dt.date(2026, 1, 1), TODAY, "5.00"),
    ],
)
def test_loyalty_discount_is_the_base_plus_a_bonus_per_full_year_capped(
    customer_since: dt.date, today: dt.date, expected: str
) -> None:
    discount = loyalty_discount(customer_since=customer_since, today=today, rules=_rules())

    assert discount == Decimal(expected)
    assert discount.as_tuple().exponent == -2


def test_loyalty_discount_with_fractional_rules_is_rounded_to_the_cent() -> None:
    rules = _rules(
        base_discount_percent=Decimal("2.50"),
        tenure_bonus_percent_per_year=Decimal("0.75"),
        max_discount_percent=Decimal("50.00"),
    )

    # Three full years: 2.50 + 3 x 0.75 = 4.75.
    assert loyalty_discount(
        customer_since=dt.date(2022, 1, 15), today=TODAY, rules=rules
    ) == Decimal("4.75")


PERCENT = st.decimals(0, 100, places=2)


# --- The replay -------------------------------------------------------------------------------
MONTHS = [
    Period(2024, m) if m >= 3 else Period(2025, m) for m in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2)
]
BASIC = OfferedPlan(
    plan_id=1,
    monthly_price=Decimal("290.00"),
    included_hours=Decimal("5"),
    overage_rate=Decimal("120.00"),
)
STANDARD = OfferedPlan(
    plan_id=2,
    monthly_price=Decimal("490.00"),
    included_hours=Decimal("10"),
    overage_rate=Decimal("100.00"),
)
EIGHT = Decimal("8.00")


def usage(
    hours: list[int], rate: str = "125.00", extra: dict[int, str] | None = None
) -> list[MonthUsage]:
    """Twelve months of `hours` billed at `rate`, plus `extra` paid in some months (priority)."""
    extra = extra or {}
    return [
        MonthUsage(
            month=month,
            minutes=h * 60,
            paid=Decimal(rate) * h + Decimal(extra.get(i, "0")),
        )
        for i, (month, h) in enumerate(zip(MONTHS, hours, strict=True))
    ]


def test_a_bursty_year_shows_the_overage_the_flat_average_hid() -> None:
    # 2 hours a month and one 20-hour month: 42 hours, an average of 3.5 a month, which
    # Basic's 5 included hours cover. Month by month, the 20-hour month is 15 hours over.
    bursty = usage([2, 2, 2, 2, 2, 20, 2, 2, 2, 2, 2, 2])

    best = best_replay(bursty, [BASIC, STANDARD], discount_percent=EIGHT)

    # Basic at 8% off: 290 x 0.92 = 266.80 a month, 3,201.60 a year, plus 15 h x 120.00 =
    # 1,800.00 in the busy month: 5,001.60. Standard: 450.80 x 12 = 5,409.60 plus 10 h x 100.00
    # = 1,000.00: 6,409.60. The flat average would have said 3,201.60.
    assert best.plan == BASIC
    assert best.monthly_price == Decimal("266.80")
    assert best.cost == Decimal("5001.60")
    assert best.overage_months == 1
    busy = best.months[5]
    assert (busy.month, busy.hours, busy.fee, busy.overage, busy.cost) == (
        Period(2024, 8),
        Decimal("20.00"),
        Decimal("266.80"),
        Decimal("1800.00"),
        Decimal("2066.80"),
    )
    assert {m.cost for i, m in enumerate(best.months) if i != 5} == {Decimal("266.80")}
    # It paid 42 h x 125.00 = 5,250.00: the contract saves 248.40, and it is a savings offer.
    assert best.paid == Decimal("5250.00")
    verdict = fit(spend=best.paid, cost=best.cost, need="", max_premium_percent=Decimal("0"))
    assert verdict.fit == Fit.SAVINGS
    assert "$248.40 less than the $5,250.00 paid" in verdict.reason


def test_a_light_client_gets_no_savings_offer_and_no_offer_without_need() -> None:
    # An hour a month: 1,500.00 paid; Basic would have cost 3,201.60.
    light = usage([1] * 12)

    best = best_replay(light, [BASIC, STANDARD], discount_percent=EIGHT)
    verdict = fit(spend=best.paid, cost=best.cost, need="", max_premium_percent=Decimal("0"))

    assert (best.plan, best.cost, best.paid) == (BASIC, Decimal("3201.60"), Decimal("1500.00"))
    assert verdict.fit == Fit.NONE
    assert "$1,701.60 more than the $1,500.00 paid" in verdict.reason
    assert "no need for faster service" in verdict.reason


def test_a_client_who_bought_priority_gets_a_value_offer_that_states_its_premium() -> None:
    # The light client, who also bought paid priority twice at 75.00: it paid 1,650.00.
    bought = usage([1] * 12, extra={2: "75.00", 7: "75.00"})
    need = need_shown(priority_purchases=2, long_waits=0, wait_hours=8)

    best = best_replay(bought, [BASIC, STANDARD], discount_percent=EIGHT)
    verdict = fit(spend=best.paid, cost=best.cost, need=need, max_premium_percent=Decimal("0"))

    # 3,201.60 - 1,650.00 = 1,551.60 more a year: 129.30 a month.
    assert best.paid == Decimal("1650.00")
    assert verdict.fit == Fit.VALUE
    assert "$1,551.60 more than the $1,650.00 paid ($129.30 a month)" in verdict.reason
    assert "bought paid priority 2 times" in verdict.reason


def test_a_value_offer_may_not_ask_more_than_the_largest_value_premium() -> None:
    # Paid 1,650.00; Basic would have cost 3,201.60: 94% more. Within a 100% limit it is a value
    # offer; a client that paid 1,500.00 (113% more) gets none, with the reason.
    need = "bought paid priority 2 times"
    cost, hundred = Decimal("3201.60"), Decimal("100")
    within = fit(
        spend=Decimal("1650.00"),
        cost=cost,
        need=need,
        max_premium_percent=Decimal("0"),
        max_value_premium_percent=hundred,
    )
    beyond = fit(
        spend=Decimal("1500.00"),
        cost=cost,
        need=need,
        max_premium_percent=Decimal("0"),
        max_value_premium_percent=hundred,
    )
    assert within.fit == Fit.VALUE
    assert beyond.fit == Fit.NONE
    assert "above the 100% a value offer may carry, though the client bought" in beyond.reason


def test_a_premium_within_the_allowance_is_still_a_savings_offer() -> None:
    # 1,650.00 paid, 1,700.00 replayed: 3.03% more. At a 5% allowance it fits, at 3% it does not.
    spend, cost = Decimal("1650.00"), Decimal("1700.00")
    assert fit(spend=spend, cost=cost, need="", max_premium_percent=Decimal("5")).fit == Fit.SAVINGS
    assert fit(spend=spend, cost=cost, need="", max_premium_percent=Decimal("3")).fit == Fit.NONE


def test_ties_go_to_fewer_overage_months_then_the_lower_list_price() -> None:
    # Both cost 3,600.00 over the year with no discount: A is 300 a month with no overage; B is
    # 250 a month with 600.00 of overage in one month.
    plan_a = OfferedPlan(1, Decimal("300.00"), Decimal("10"), Decimal("100.00"))
    plan_b = OfferedPlan(2, Decimal("250.00"), Decimal("4"), Decimal("100.00"))
    year = usage([0, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0])
    assert best_replay(year, [plan_b, plan_a], discount_percent=Decimal("0")).plan == plan_a
    # Equal cost and overage: the lower list price.
    plan_c = OfferedPlan(3, Decimal("300.00"), Decimal("10"), Decimal("100.00"))
    cheap_c = OfferedPlan(4, Decimal("299.00"), Decimal("10"), Decimal("100.00"))
    idle = usage([0] * 12)
    assert best_replay(idle, [plan_c, cheap_c], discount_percent=Decimal("0")).plan == cheap_c


def test_after_a_short_first_term_the_discount_ends_in_the_replay() -> None:
    six_months = OfferedPlan(1, Decimal("100.00"), Decimal("5"), Decimal("100.00"), term_months=6)
    idle = usage([0] * 12)
    first_term = replay(idle, six_months, discount_percent=Decimal("10"), first_term_only=True)
    every_term = replay(idle, six_months, discount_percent=Decimal("10"), first_term_only=False)
    assert first_term.cost == Decimal("90.00") * 6 + Decimal("100.00") * 6
    assert every_term.cost == Decimal("90.00") * 12


def test_replaying_from_no_plans_is_an_error() -> None:
    with pytest.raises(ValueError, match="no plans"):
        best_replay(usage([0] * 12), [], discount_percent=Decimal("0"))


PLAN = st.builds(
    OfferedPlan,
    plan_id=st.integers(1, 10_000),
    monthly_price=st.decimals(0, 5000, places=2),
    included_hours=st.decimals(0, 40, places=2),
    overage_rate=st.decimals(0, 300, places=2),
)
HOURS = st.lists(st.integers(0, 80), min_size=12, max_size=12)


@given(plans=st.lists(PLAN, min_size=1, max_size=4), hours=HOURS, discount=PERCENT)
def test_the_best_replay_costs_no_more_than_any_plan_and_each_month_is_billings_rule(
    plans: list[OfferedPlan], hours: list[int], discount: Decimal
) -> None:
    year = usage(hours)
    best = best_replay(year, plans, discount_percent=discount)
    assert all(best.cost <= replay(year, p, discount_percent=discount).cost for p in plans)
    assert best.cost == sum(m.cost for m in best.months)
    for month, used in zip(best.months, year, strict=True):
        billed = contract_month(
            monthly_price=best.monthly_price,
            included_hours=best.plan.included_hours,
            overage_rate=best.plan.overage_rate,
            worked_minutes=used.minutes,
            days_covered=30,
            days_in_month=30,
        )
        assert (month.fee, month.overage) == (billed.fee, billed.overage)


@pytest.mark.django_db
def test_the_campaign_rules_are_one_row_whatever_key_it_is_saved_under() -> None:
    CampaignSettings.objects.all().delete()

    loaded = CampaignSettings.load()  # made with the defaults when missing
    CampaignSettings(pk=7, min_trailing_tickets=9).save()

    assert loaded.pk == 1
    assert loaded.min_trailing_spend == Decimal("500.00")
    assert list(CampaignSettings.objects.values_list("pk", "min_trailing_tickets")) == [(1, 9)]
    assert CampaignSettings.load().min_trailing_tickets == 9
