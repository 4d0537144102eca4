"""The campaign preview: the offers a run would draft, the cap on a run, and what it costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clients.models import ChargeKind
from offers.campaign import Fit
from offers.drafts import campaign_preview
from offers.models import CampaignSettings
from tests.conftest import NOW
from tests.factories import ChargeFactory, PlanFactory, campaign_rules
from tests.offers.campaign_helpers import spender


@pytest.mark.django_db
@pytest.mark.parametrize("clients", [3, 30])
def test_the_campaign_preview_costs_the_same_queries_for_3_or_30_clients(
    now: dt.datetime, rules: CampaignSettings, django_assert_num_queries: Any, clients: int
) -> None:
    PlanFactory(monthly_price=Decimal("40.00"), included_hours=Decimal("5.00"))
    PlanFactory(monthly_price=Decimal("49.00"), included_hours=Decimal("10.00"))
    for _ in range(clients):
        spender("700.00")

    # Three: the campaign rules, the offered plans with their terms, and the eligible clients
    # with their figures month by month; the replay itself is pure.
    with django_assert_num_queries(3):
        preview = campaign_preview(now=NOW)

    assert len(preview.offers) == clients
    assert preview.eligible == clients
    assert not preview.capped


@pytest.mark.django_db
def test_the_preview_is_capped_by_max_offers_per_run_keeping_the_best_ranked(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory(monthly_price=Decimal("40.00"))
    spender("600.00", name="Third")
    spender("900.00", name="First")
    spender("700.00", name="Second")
    campaign_rules(max_offers_per_run=2)

    preview = campaign_preview(now=NOW)

    assert [d.client.name for d in preview.offers] == ["First", "Second"]
    # The run records how many qualified, not just how many the cap let through.
    assert preview.eligible == 3
    assert preview.capped


@pytest.mark.django_db
@pytest.mark.parametrize("cap", [3, 2])
def test_the_preview_costs_three_queries_whether_or_not_the_cap_cuts_the_list(
    now: dt.datetime, rules: CampaignSettings, django_assert_num_queries: Any, cap: int
) -> None:
    PlanFactory(monthly_price=Decimal("40.00"))
    for _ in range(3):
        spender("700.00")
    campaign_rules(max_offers_per_run=cap)

    # Every candidate is read (one that does not fit leaves its place to the next), so the
    # cap costs no count.
    with django_assert_num_queries(3):
        preview = campaign_preview(now=NOW)

    assert (len(preview.offers), preview.eligible, preview.capped) == (cap, 3, cap < 3)


@pytest.mark.django_db
def test_the_preview_offers_nobody_when_no_plan_is_offered(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory(is_offered=False)
    spender("900.00")

    preview = campaign_preview(now=NOW)

    assert preview.offers == []
    assert preview.no_plan_offered
    assert not preview.capped


@pytest.mark.django_db
def test_a_draft_replays_the_year_under_every_offered_plan_and_keeps_the_cheapest(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    basic = PlanFactory(
        name="Basic",
        monthly_price=Decimal("290.00"),
        included_hours=5,
        overage_hourly_rate=Decimal("120.00"),
    )
    PlanFactory(
        name="Standard",
        monthly_price=Decimal("490.00"),
        included_hours=10,
        overage_hourly_rate=Decimal("100.00"),
    )
    PlanFactory(name="Retired", monthly_price=Decimal("9.00"), included_hours=99, is_offered=False)
    # Three full years a customer: 5% + 3 x 1% = 8%.
    client = spender("0", 3, customer_since=dt.date(2022, 3, 10))
    # 2 hours in each of the twelve months (March 2024 to February 2025) and 18 more in August,
    # at 125.00 an hour: 42 hours, 5,250.00; and one priority surcharge of 75.00.
    for month in range(12):
        when = dt.datetime(2024, 3, 15, 12, tzinfo=dt.UTC) + dt.timedelta(days=30.5 * month)
        ChargeFactory(client=client, amount=Decimal("250.00"), hours=2, occurred_at=when)
    ChargeFactory(
        client=client,
        amount=Decimal("2250.00"),
        hours=18,
        occurred_at=dt.datetime(2024, 8, 20, tzinfo=dt.UTC),
    )
    ChargeFactory(
        client=client,
        kind=ChargeKind.PAID_PRIORITY,
        amount=Decimal("75.00"),
        occurred_at=dt.datetime(2024, 11, 5, tzinfo=dt.UTC),
    )
    # Not what a contract replaces: a laptop sale counts nowhere.
    ChargeFactory(client=client, kind=ChargeKind.OTHER, amount=Decimal("1400.00"))

    (draft,) = campaign_preview(now=NOW).offers

    # Basic at 8% off is 266.80 a month, 3,201.60 a year, plus August's 15 hours beyond the 5
    # included at 120.00: 1,800.00. Standard: 5,409.60 + 10 h x 100.00 = 6,409.60.
    assert draft.plan.plan_id == basic.pk
    assert draft.email == client.contacts.get().email
    assert draft.contact_id == client.contacts.get().pk
    assert draft.discount_percent == Decimal("8.00")
    assert draft.replay.monthly_price == Decimal("266.80")
    assert draft.replayed_cost == Decimal("5001.60")
    assert draft.trailing_labour == Decimal("5250.00")
    assert draft.trailing_priority == Decimal("75.00")
    assert draft.trailing_spend == Decimal("5325.00")
    assert draft.trailing_hours == Decimal("42.00")
    assert draft.trailing_tickets == 3
    assert draft.priority_purchases == 1
    assert draft.fit == Fit.SAVINGS
    months = draft.as_json()["monthly"]
    assert [m["month"] for m in months][:2] == ["2024-03", "2024-04"]
    assert months[5] == {
        "month": "2024-08",
        "hours": "20.00",
        "paid": "2500.00",
        "fee": "266.80",
        "overage": "1800.00",
        "cost": "2066.80",
    }
    assert months[8]["paid"] == "325.00"  # November: 2 hours and the surcharge
