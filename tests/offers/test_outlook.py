"""What a campaign would do about one client now, and why (the client page's word on offers):
the campaign's own rules, in its own words, checked against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.periods import Period
from clients.models import ChargeKind
from clients.services import client_drop
from offers.models import OfferStatus
from offers.outlook import campaign_outlook
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def test_a_client_on_contract_is_not_offered_one(rules, basic, now):
    client = OfferableClientFactory(name="Harbor Dental")
    ContractFactory(client=client)

    outlook = campaign_outlook(client, now=NOW)

    assert not outlook.qualifies
    assert outlook.reason == (
        "A campaign would not offer Harbor Dental a contract: it already holds a service contract."
    )


def test_a_client_who_opted_out_is_not_offered_one(rules, basic, now):
    client = OfferableClientFactory(name="Lakeside Vets", offers_opt_out=True)

    assert campaign_outlook(client, now=NOW).reason == (
        "A campaign would not offer Lakeside Vets a contract: it asked not to receive offers "
        "(opted out)."
    )


def test_a_client_offered_inside_the_cooldown_waits(rules, basic, now):
    client = OfferableClientFactory()
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 10 * DAY)

    outlook = campaign_outlook(client, now=NOW)

    # Offered on 28 February; 90 days on is 29 May.
    assert not outlook.qualifies
    assert outlook.reason == (
        "Not yet: it was offered a contract on 28 February 2025, and a campaign waits 90 days "
        "between offers (until 29 May 2025)."
    )


def test_a_client_below_both_thresholds_is_told_by_how_much(rules, basic, now):
    client = OfferableClientFactory()
    for amount in ("200.00", "120.00"):
        ChargeFactory(client=client, amount=Decimal(amount), occurred_at=NOW - 30 * DAY)
    TicketFactory.create_batch(2, client=client, opened_at=NOW - 30 * DAY)
    # This month's spend and tickets are outside the twelve whole months the campaign reads.
    ChargeFactory(client=client, amount=Decimal("900.00"), occurred_at=NOW - DAY)
    TicketFactory.create_batch(3, client=client, opened_at=NOW - DAY)

    outlook = campaign_outlook(client, now=NOW)

    assert not outlook.qualifies
    assert outlook.reason == (
        "Below the campaign's thresholds: $320.00 spent and 2 tickets in the last twelve whole "
        "months, where a campaign needs $500.00 or 4 tickets."
    )


def test_a_client_that_would_save_qualifies_with_the_campaigns_reason(rules, now):
    PlanFactory(name="Basic", monthly_price=Decimal("100.00"), included_hours=Decimal("10.00"))
    client = OfferableClientFactory()  # a customer for 800 days: 5% + 2 years x 1% = 7% off
    month = Period(2025, 2)
    for _ in range(12):  # two hours of labour at $100.00 in each of the twelve whole months
        ChargeFactory(
            client=client,
            kind=ChargeKind.LABOUR,
            amount=Decimal("200.00"),
            hours=Decimal("2.00"),
            occurred_at=month.starts_at() + 14 * DAY,
        )
        month = month.previous

    outlook = campaign_outlook(client, now=NOW)

    # On contract: 12 months at $100.00 less 7% = $93.00, no overage (2 of 10 hours a month):
    # $1,116.00 against the $2,400.00 paid.
    assert outlook.qualifies
    assert outlook.reason == (
        "Savings: it would have cost $1,116.00, $1,284.00 less than the $2,400.00 paid."
    )


def test_a_client_with_no_plan_to_offer_is_told_so(rules, now):
    client = OfferableClientFactory()
    ChargeFactory(client=client, amount=Decimal("600.00"), occurred_at=NOW - 30 * DAY)

    assert campaign_outlook(client, now=NOW).reason == (
        "No plan is offered; mark at least one plan as offered."
    )


def test_a_dropped_client_without_a_contact_is_told_the_first_reason(rules, basic, manager, now):
    client = client_drop(client=ClientFactory(name="Gone Ltd"), reason="Left", by=manager)

    assert campaign_outlook(client, now=NOW).reason == (
        "A campaign would not offer Gone Ltd a contract: it has been dropped; reinstate it first."
    )
