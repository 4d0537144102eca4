"""The demo's conversion story: its dry run offers all three kinds, and its past runs left a funnel.

One default-sized demo is seeded per module (and rolled back after it): the split of kinds is a
property of the practice the README promises, not of a toy one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from clients.models import ClientEvent, ClientEventKind
from consultancy.demo import SeedReport, seed_demo
from contracts.models import ServiceContract
from offers.campaign import Fit, long_wait_moment, long_waits
from offers.drafts import campaign_preview
from offers.models import (
    CampaignRun,
    CampaignSettings,
    CampaignTrigger,
    ConversionOffer,
    OfferKind,
    OfferSource,
    OfferStatus,
)
from tickets.models import Ticket


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: Any) -> Iterator[SeedReport]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_the_demo_dry_run_offers_savings_value_and_nothing_each_to_a_fair_share(demo):
    candidates = campaign_preview().candidates
    kinds = Counter(d.fit for d in candidates)

    assert len(candidates) >= 40
    # Believable proportions, not exact counts: the practice is drawn relative to today.
    for kind in (Fit.SAVINGS, Fit.VALUE, Fit.NONE):
        assert kinds[kind] >= 0.10 * len(candidates), kinds
    assert kinds[Fit.SAVINGS] >= 0.20 * len(candidates), kinds
    # Some break-fix clients had busy months: their replay goes past a plan's included hours.
    assert any(d.replay.overage_months for d in candidates)


def test_the_demo_has_three_scheduled_runs_past_the_cooldown_of_each_other(demo):
    runs = list(CampaignRun.objects.order_by("started_at"))
    cooldown = dt.timedelta(days=CampaignSettings.load().cooldown_days)

    assert len(runs) == 3
    assert {r.trigger for r in runs} == {CampaignTrigger.SCHEDULE}
    moments = [r.started_at for r in runs] + [timezone.now()]
    assert all(later - earlier > cooldown for earlier, later in itertools.pairwise(moments))
    for run in runs:
        offers = run.offers.all()
        kinds = Counter(offers.values_list("kind", flat=True))
        assert run.offers_created == len(offers) > 0
        assert (run.savings_offers, run.value_offers) == (
            kinds[OfferKind.SAVINGS],
            kinds[OfferKind.VALUE],
        )
        assert run.eligible_clients == run.offers_created + run.not_offered
        assert sum(run.not_offered_reasons.values()) == run.not_offered
        assert {o.source for o in offers} == {OfferSource.CAMPAIGN}


def test_the_demo_offers_were_accepted_declined_expired_or_are_still_open(demo):
    now = timezone.now()
    statuses = Counter(ConversionOffer.objects.values_list("status", flat=True))

    assert set(statuses) == {
        OfferStatus.ACCEPTED,
        OfferStatus.DECLINED,
        OfferStatus.EXPIRED,
        OfferStatus.SENT,
    }, statuses
    # A funnel: offered > opened > accepted.
    opened = ConversionOffer.objects.filter(opened_at__isnull=False).count()
    assert sum(statuses.values()) > opened > statuses[OfferStatus.ACCEPTED]
    for offer in ConversionOffer.objects.open():
        # Made at a moment of need, or by hand in a week without one.
        assert offer.source in (OfferSource.MOMENT, OfferSource.MANUAL)
        assert offer.sent_at is not None
        assert offer.sent_at < now < offer.expires_at
    for offer in ConversionOffer.objects.exclude(status=OfferStatus.SENT):
        assert offer.sent_at is not None
        assert offer.expires_at < now, offer
        if offer.responded_at is not None:
            assert offer.opened_at is not None
            assert offer.sent_at < offer.opened_at <= offer.responded_at < offer.expires_at


def test_each_accepted_demo_offer_started_its_contract_at_the_offered_price(demo):
    accepted = ConversionOffer.objects.filter(status=OfferStatus.ACCEPTED).select_related(
        "contract", "plan"
    )

    assert accepted
    for offer in accepted:
        contract = offer.contract
        assert contract is not None
        assert offer.responded_at is not None
        assert contract.client_id == offer.client_id
        assert contract.plan_id == offer.plan_id
        assert contract.starts_on == timezone.localdate(offer.responded_at)
        assert contract.created_at == offer.responded_at
        assert (contract.monthly_price, contract.discount_percent) == (
            offer.monthly_price,
            offer.discount_percent,
        )
        assert offer.signer_name
        assert offer.signer_role
        assert offer.accepted_ip
        assert offer.accepted_user_agent
        events = ClientEvent.objects.filter(client=offer.client_id)
        assert events.filter(kind=ClientEventKind.OFFER_ACCEPTED, at=offer.responded_at).exists()
        started = events.get(kind=ClientEventKind.CONTRACT_STARTED)
        assert started.summary.endswith("from the offer the client accepted")
        # Before it accepted, it was a break-fix client.
        assert not Ticket.objects.filter(
            client=offer.client_id, contract=contract, opened_at__lt=offer.created_at
        ).exists()
    from_offer = ClientEvent.objects.filter(
        kind=ClientEventKind.CONTRACT_STARTED, summary__endswith="accepted"
    )
    assert from_offer.count() == len(accepted)


def test_every_demo_offer_replays_to_its_cost_and_no_saving_costs_more_than_was_paid(demo):
    offers = ConversionOffer.objects.select_related("plan")

    assert offers
    for offer in offers:
        assert sum(Decimal(m["cost"]) for m in offer.monthly) == offer.contract_cost, offer
        assert len(offer.monthly) == 12
        assert offer.terms == offer.plan.current_terms()
        assert offer.list_price == offer.plan.monthly_price
        assert offer.monthly_price <= offer.list_price
        if offer.kind == OfferKind.SAVINGS:
            assert offer.contract_cost <= offer.trailing_spend, offer
        else:
            assert offer.contract_cost > offer.trailing_spend, offer
            assert offer.need, offer


def test_demo_offers_answered_or_made_at_a_moment_of_need_are_in_the_clients_history(demo):
    declined = ConversionOffer.objects.filter(status=OfferStatus.DECLINED)
    # Whether the demo's last days held a moment of need depends on the day it is seeded.
    moment = ConversionOffer.objects.filter(source=OfferSource.MOMENT)

    assert declined
    for offer in declined:
        assert ClientEvent.objects.filter(
            client=offer.client_id, kind=ClientEventKind.OFFER_DECLINED, at=offer.responded_at
        ).exists()
    for offer in moment:
        event = ClientEvent.objects.get(client=offer.client_id, kind=ClientEventKind.OFFER_MADE)
        assert event.at == offer.created_at
        assert "at the moment of need" in event.summary


def test_demo_break_fix_tickets_wait_long_as_ticket_open_would_time_them(demo):
    break_fix = Ticket.objects.filter(contract__isnull=True).order_by("pk")
    now = timezone.now()

    assert not Ticket.objects.filter(contract__isnull=False, long_wait_at__isnull=False).exists()
    assert not break_fix.filter(long_wait_at__isnull=True).exists()
    for ticket in break_fix[:200]:
        assert ticket.long_wait_at == long_wait_moment(ticket.opened_at)
    waited = long_waits(since=now - dt.timedelta(days=365), now=now)
    # Some, not most: the back of the line is slow, not abandoned.
    assert (
        0
        < waited.count()
        < 0.1 * break_fix.filter(opened_at__gte=now - dt.timedelta(days=365)).count()
    )


def test_seeding_the_demo_again_adds_no_runs_or_offers(demo):
    before = (CampaignRun.objects.count(), ConversionOffer.objects.count())

    report = seed_demo()

    assert not report.created
    assert (CampaignRun.objects.count(), ConversionOffer.objects.count()) == before
    assert demo.campaign_runs == 3
    assert demo.offers == before[1]
    assert ServiceContract.objects.filter(offer__isnull=False).count() == demo.offers_accepted
