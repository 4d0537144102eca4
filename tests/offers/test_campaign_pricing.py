"""The campaign's pure rules: loyalty discount, plan recommendation, savings, and the rules row."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offers.campaign import PlanTerms, loyalty_discount, recommend_plan, savings_statement
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


# --- recommend_plan ---------------------------------------------------------------------------
BASIC = PlanTerms(plan_id=1, monthly_price=Decimal("290.00"), included_hours=Decimal("5.00"))
STANDARD = PlanTerms(plan_id=2, monthly_price=Decimal("490.00"), included_hours=Decimal("10.00"))
PREMIUM = PlanTerms(plan_id=3, monthly_price=Decimal("890.00"), included_hours=Decimal("20.00"))
PLANS = [PREMIUM, BASIC, STANDARD]  # out of order on purpose


@pytest.mark.parametrize(
    ("monthly_hours", "expected"),
    [
        ("0", BASIC),
        ("4.99", BASIC),
        ("5.00", BASIC),  # exactly covered
        ("5.01", STANDARD),
        ("10.00", STANDARD),
        ("19.99", PREMIUM),
        ("20.00", PREMIUM),
        ("25.00", PREMIUM),  # no plan covers it: the biggest one
    ],
)
def test_recommended_plan_is_the_cheapest_that_covers_the_average_month(
    monthly_hours: str, expected: PlanTerms
) -> None:
    assert recommend_plan(Decimal(monthly_hours), PLANS) == expected


def test_recommended_plan_is_the_cheaper_of_two_covering_plans_whatever_their_hours() -> None:
    generous_and_cheap = PlanTerms(
        plan_id=7, monthly_price=Decimal("250.00"), included_hours=Decimal("12.00")
    )

    assert recommend_plan(Decimal("4"), [BASIC, generous_and_cheap]) == generous_and_cheap


def test_when_no_plan_covers_the_biggest_is_recommended_and_the_cheaper_of_equals() -> None:
    big = PlanTerms(plan_id=4, monthly_price=Decimal("990.00"), included_hours=Decimal("20.00"))

    assert recommend_plan(Decimal("40"), [BASIC, big, PREMIUM]) == PREMIUM


def test_equally_priced_covering_plans_are_decided_by_plan_id() -> None:
    twin = PlanTerms(plan_id=9, monthly_price=Decimal("290.00"), included_hours=Decimal("6.00"))

    assert recommend_plan(Decimal("1"), [twin, BASIC]) == BASIC


def test_recommending_from_no_plans_is_an_error() -> None:
    with pytest.raises(ValueError, match="no plans"):
        recommend_plan(Decimal("1"), [])


# --- savings_statement ------------------------------------------------------------------------
def test_savings_statement_of_a_client_who_would_have_paid_more_on_contract() -> None:
    savings = savings_statement(
        labour=Decimal("2400.00"),
        priority=Decimal("150.00"),
        list_price=Decimal("290.00"),
        discount_percent=Decimal("11.00"),
    )

    # 290.00 x 0.89 = 258.10 a month; 12 x 258.10 = 3,097.20; paid 2,400 + 150 = 2,550.00.
    assert savings.monthly_price == Decimal("258.10")
    assert savings.contract_cost == Decimal("3097.20")
    assert savings.trailing_spend == Decimal("2550.00")
    assert savings.difference == Decimal("-547.20")
    assert savings.list_price == Decimal("290.00")
    assert savings.discount_percent == Decimal("11.00")


def test_savings_statement_of_a_client_who_would_have_saved() -> None:
    savings = savings_statement(
        labour=Decimal("5937.50"),
        priority=Decimal("375.00"),
        list_price=Decimal("490.00"),
        discount_percent=Decimal("7.00"),
    )

    # 490.00 x 0.93 = 455.70; x 12 = 5,468.40; paid 6,312.50; saved 844.10.
    assert savings.monthly_price == Decimal("455.70")
    assert savings.contract_cost == Decimal("5468.40")
    assert savings.trailing_spend == Decimal("6312.50")
    assert savings.difference == Decimal("844.10")


def test_half_a_cent_is_rounded_up_not_to_even() -> None:
    # 99.90 x 0.95 = 94.905: half up gives 94.91 (banker's rounding would give 94.90).
    savings = savings_statement(
        labour=Decimal("0"),
        priority=Decimal("0"),
        list_price=Decimal("99.90"),
        discount_percent=Decimal("5.00"),
    )

    assert savings.monthly_price == Decimal("94.91")
    assert savings.contract_cost == Decimal("1138.92")


def test_ledger_amounts_beyond_the_cent_are_rounded_half_up() -> None:
    savings = savings_statement(
        labour=Decimal("100.005"),
        priority=Decimal("0.004"),
        list_price=Decimal("290"),
        discount_percent=Decimal("0"),
    )

    assert savings.trailing_labour == Decimal("100.01")
    assert savings.trailing_priority == Decimal("0.00")
    assert savings.trailing_spend == Decimal("100.01")
    assert savings.list_price == Decimal("290.00")
    assert savings.monthly_price == Decimal("290.00")


MONEY = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999.99"), places=2)
PERCENT = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2)


@given(list_price=MONEY, discount=PERCENT, labour=MONEY, priority=MONEY)
def test_monthly_price_never_exceeds_list_and_a_year_is_exactly_twelve_months(
    list_price: Decimal, discount: Decimal, labour: Decimal, priority: Decimal
) -> None:
    savings = savings_statement(
        labour=labour, priority=priority, list_price=list_price, discount_percent=discount
    )

    assert Decimal("0") <= savings.monthly_price <= list_price
    assert savings.monthly_price.as_tuple().exponent == -2
    assert savings.contract_cost == savings.monthly_price * 12
    assert savings.trailing_spend == labour + priority
    # The price is the list price less the discount, to the nearest cent (half up).
    exact = list_price * (100 - discount) / 100
    assert abs(savings.monthly_price - exact) <= Decimal("0.005")
    assert savings.monthly_price == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- The rules row -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_campaign_rules_are_one_row_whatever_key_it_is_saved_under() -> None:
    CampaignSettings.objects.all().delete()

    loaded = CampaignSettings.load()  # made with the defaults when missing
    CampaignSettings(pk=7, min_trailing_tickets=9).save()

    assert loaded.pk == 1
    assert loaded.min_trailing_spend == Decimal("500.00")
    assert list(CampaignSettings.objects.values_list("pk", "min_trailing_tickets")) == [(1, 9)]
    assert CampaignSettings.load().min_trailing_tickets == 9
