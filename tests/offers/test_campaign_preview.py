"""The campaign preview: the offers a run would draft, the cap on a run, and what it costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clients.models import ChargeKind
from offers.models import CampaignSettings
from offers.services import campaign_preview
from tests.conftest import NOW
from tests.factories import ChargeFactory, PlanFactory, campaign_rules
from tests.offers.campaign_helpers import spender


@pytest.mark.django_db
@pytest.mark.parametrize("clients", [3, 30])
def test_the_campaign_preview_costs_the_same_queries_for_3_or_30_clients(
    now: dt.datetime, rules: CampaignSettings, django_assert_num_queries: Any, clients: int
) -> None:
    PlanFactory(monthly_price=Decimal("290.00"), included_hours=Decimal("5.00"))
    PlanFactory(monthly_price=Decimal("490.00"), included_hours=Decimal("10.00"))
    for _ in range(clients):
        spender("700.00")

    # Three: the campaign rules, the offered plans, and the eligible clients with their figures;
    # the drafting itself is pure.
    with django_assert_num_queries(3):
        preview = campaign_preview(now=NOW)

    assert len(preview.offers) == clients
    assert preview.eligible == clients
    assert not preview.capped


@pytest.mark.django_db
def test_the_preview_is_capped_by_max_offers_per_run_keeping_the_best_ranked(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory()
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
@pytest.mark.parametrize(("cap", "queries", "offers"), [(3, 3, 3), (2, 4, 2)])
def test_the_preview_counts_the_eligible_clients_only_when_the_cap_cuts_the_list(
    now: dt.datetime,
    rules: CampaignSettings,
    django_assert_num_queries: Any,
    cap: int,
    queries: int,
    offers: int,
) -> None:
    PlanFactory()
    for _ in range(3):
        spender("700.00")
    campaign_rules(max_offers_per_run=cap)

    # The rules, the plans, the list (one row past the cap); only a cut list costs a count.
    with django_assert_num_queries(queries):
        preview = campaign_preview(now=NOW)

    assert (len(preview.offers), preview.eligible, preview.capped) == (offers, 3, offers < 3)


@pytest.mark.django_db
def test_the_preview_offers_nobody_when_no_plan_is_offered(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    PlanFactory(is_offered=False)
    spender("900.00")

    preview = campaign_preview(now=NOW)

    assert preview.offers == []
    assert preview.eligible == 1
    assert preview.no_plan_offered
    assert not preview.capped


@pytest.mark.django_db
def test_a_draft_carries_the_recommended_plan_discount_and_savings(
    now: dt.datetime, rules: CampaignSettings
) -> None:
    basic = PlanFactory(name="Basic", monthly_price=Decimal("290.00"), included_hours=5)
    standard = PlanFactory(name="Standard", monthly_price=Decimal("490.00"), included_hours=10)
    PlanFactory(name="Retired", monthly_price=Decimal("90.00"), included_hours=99, is_offered=False)
    # Three full years a customer: 5% + 3 x 1% = 8%.
    client = spender("0", 3, customer_since=dt.date(2022, 3, 10))
    # 72 hours in a year is 6 a month: more than Basic's 5, within Standard's 10.
    ChargeFactory(client=client, amount=Decimal("9000.00"), hours=72)
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))

    (draft,) = campaign_preview(now=NOW).offers

    assert draft.plan.plan_id == standard.pk != basic.pk
    assert draft.email == client.contacts.get().email
    assert draft.contact_id == client.contacts.get().pk
    s = draft.savings
    assert s.discount_percent == Decimal("8.00")
    assert s.list_price == Decimal("490.00")
    assert s.monthly_price == Decimal("450.80")  # 490 x 0.92
    assert s.contract_cost == Decimal("5409.60")
    assert s.trailing_labour == Decimal("9000.00")
    assert s.trailing_priority == Decimal("75.00")
    assert s.trailing_spend == Decimal("9075.00")
    assert s.difference == Decimal("3665.40")
    assert draft.trailing_hours == Decimal("72.00")
    assert draft.trailing_tickets == 3
    assert draft.priority_purchases == 1
