"""Campaign runs: who is offered what, when the emails leave, the cap, and the scheduled task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clients.models import ChargeKind
from offers import drafts as offers_module
from offers import services as offer_services
from offers import tasks as offer_tasks
from offers.models import (
    CampaignRun,
    CampaignTrigger,
    ConversionOffer,
    OfferKind,
    OfferSource,
    OfferStatus,
)
from offers.services import campaign_run, offer_decline, offer_send_now
from offers.tasks import campaign_run_task
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    OfferableClientFactory,
    PlanFactory,
    TicketFactory,
    campaign_rules,
)
from tests.offers.campaign_helpers import recipients, spender

pytestmark = pytest.mark.django_db


# --- campaign_run -------------------------------------------------------------------------------
def test_a_campaign_run_offers_every_eligible_client_and_records_the_run(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    first, second = spender("700.00"), spender("900.00")
    spender("100.00")  # below the threshold

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW)

    run.refresh_from_db()
    assert run.trigger == CampaignTrigger.SCHEDULE
    assert run.started_at == NOW
    assert run.offers_created == 2
    assert run.eligible_clients == 2
    offers = ConversionOffer.objects.filter(campaign_run=run)
    assert {o.client for o in offers} == {first, second}
    assert {o.status for o in offers} == {OfferStatus.SENT}
    assert {o.sent_at for o in offers} == {NOW}
    assert recipients(mailoutbox) == sorted(o.email for o in offers)


def test_an_offer_carries_the_terms_and_figures_it_was_made_with(
    now, rules, basic, django_capture_on_commit_callbacks
):
    PlanFactory(name="Standard", monthly_price=Decimal("490.00"), included_hours=10)
    # Four full years a customer: 5% + 4 x 1% = 9%.
    client = OfferableClientFactory(customer_since=dt.date(2021, 3, 10))
    # 19.2 hours, all in February 2025.
    ChargeFactory(client=client, amount=Decimal("2400.00"), hours=Decimal("19.2"))
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    for _ in range(7):
        TicketFactory(client=client, opened_at=NOW - 10 * DAY)

    with django_capture_on_commit_callbacks(execute=False):
        run = campaign_run(now=NOW)

    offer = ConversionOffer.objects.get()
    contact = client.contacts.get()
    assert offer.campaign_run == run
    assert (offer.source, offer.kind) == (OfferSource.CAMPAIGN, OfferKind.SAVINGS)
    assert (offer.client, offer.contact, offer.email) == (client, contact, contact.email)
    assert offer.plan == basic
    assert offer.terms == basic.current_terms()
    assert offer.discount_first_term_only
    assert offer.status == OfferStatus.PENDING
    assert offer.list_price == Decimal("40.00")
    assert offer.discount_percent == Decimal("9.00")
    assert offer.monthly_price == Decimal("36.40")  # 40 x 0.91
    # Basic: 12 x 36.40 = 436.80, and February's 14.2 hours beyond the 5 included at 110.00 =
    # 1,562.00. (Standard would have cost 12 x 445.90 + 9.2 h x 110.00 = 6,362.80.)
    assert offer.contract_cost == Decimal("1998.80")
    assert offer.monthly[-1] == {
        "month": "2025-02",
        "hours": "19.20",
        "paid": "2550.00",
        "fee": "36.40",
        "overage": "1562.00",
        "cost": "1598.40",
    }
    assert offer.trailing_labour == Decimal("2400.00")
    assert offer.trailing_priority == Decimal("150.00")
    assert offer.trailing_spend == Decimal("2550.00")
    assert offer.savings == Decimal("551.20")
    assert offer.trailing_hours == Decimal("19.20")
    assert offer.trailing_tickets == 7
    assert offer.priority_purchases == 2
    assert offer.created_at == NOW
    assert offer.expires_at == NOW + 21 * DAY
    assert len(offer.nonce) >= 16


def test_campaign_emails_leave_only_after_the_run_commits(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    spender(), spender()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        campaign_run(now=NOW)

    assert mailoutbox == []
    assert set(ConversionOffer.objects.values_list("status", flat=True)) == {OfferStatus.PENDING}
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 2


def test_every_eligible_client_gets_exactly_one_email_across_batches(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    # Batches of two, so five offers go out in three send tasks.
    monkeypatch.setattr(offer_tasks, "SEND_BATCH_SIZE", 2)
    clients = [spender() for _ in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        campaign_run(now=NOW)

    expected = sorted(c.contacts.get().email for c in clients)
    assert recipients(mailoutbox) == expected
    assert ConversionOffer.objects.filter(status=OfferStatus.SENT).count() == 5


def test_a_run_that_fails_halfway_leaves_no_run_no_offers_and_no_emails(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    spender(), spender()
    real_draft = offers_module.draft_offer
    calls = []

    def draft_then_fail(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_draft(*args, **kwargs)

    monkeypatch.setattr(offers_module, "draft_offer", draft_then_fail)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        campaign_run(now=NOW)

    assert not CampaignRun.objects.exists()
    assert not ConversionOffer.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


def test_a_run_commits_its_offers_in_chunks_and_queues_each_chunks_emails_after_it(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(offer_services, "OFFER_CHUNK", 2)
    clients = [spender(f"{900 - n}.00") for n in range(5)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        run = campaign_run(now=NOW)

    # One announcement per chunk of two, best-ranked first, and nothing sent before it.
    assert len(callbacks) == 3
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert recipients(mailoutbox) == sorted(c.contacts.get().email for c in clients)
    assert (run.offers_created, run.savings_offers, run.eligible_clients) == (5, 5, 5)


def test_a_later_chunk_leaves_out_a_client_offered_by_hand_since_the_run_began(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(offer_services, "OFFER_CHUNK", 2)
    clients = [spender(f"{900 - n}.00") for n in range(4)]
    real_lock = offer_services.lock_campaign_rules
    locks = []

    def manager_offers_the_last_client_between_chunks() -> Any:
        locks.append(1)
        if len(locks) == 2:  # the second chunk's lock; the manager got it first
            offer_send_now(client=clients[-1], now=NOW)
        return real_lock()

    monkeypatch.setattr(
        offer_services, "lock_campaign_rules", manager_offers_the_last_client_between_chunks
    )

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW)

    assert run.offers_created == 3
    assert [o.client for o in run.offers.order_by("pk")] == clients[:3]
    assert ConversionOffer.objects.filter(client=clients[-1]).get().source == OfferSource.MANUAL
    assert recipients(mailoutbox) == sorted(c.contacts.get().email for c in clients)


def test_a_run_that_fails_in_a_later_chunk_keeps_the_chunks_it_committed(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(offer_services, "OFFER_CHUNK", 2)
    clients = [spender(f"{900 - n}.00") for n in range(4)]
    real_make = offer_services.make_offers
    chunks = []

    def fail_in_the_second_chunk(*args: Any, **kwargs: Any) -> Any:
        chunks.append(1)
        if len(chunks) == 2:
            raise RuntimeError("database went away")
        return real_make(*args, **kwargs)

    monkeypatch.setattr(offer_services, "make_offers", fail_in_the_second_chunk)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        campaign_run(now=NOW)

    # The first chunk stands, its emails sent and the run's counts matching it.
    run = CampaignRun.objects.get()
    assert (run.offers_created, run.eligible_clients) == (2, 4)
    assert [o.client for o in run.offers.order_by("pk")] == clients[:2]
    assert recipients(mailoutbox) == sorted(c.contacts.get().email for c in clients[:2])
    # The next run offers the rest, and nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = campaign_run(now=NOW + dt.timedelta(minutes=5))
    assert [o.client for o in again.offers.order_by("pk")] == clients[2:]
    assert len(mailoutbox) == 4


def test_a_second_run_right_away_offers_nobody_twice(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    spender(), spender()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_run(now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        second = campaign_run(now=NOW + dt.timedelta(minutes=5))

    assert second.offers_created == 0
    assert ConversionOffer.objects.count() == 2
    assert len(mailoutbox) == 2


def test_an_answered_offer_keeps_the_client_out_until_the_cooldown_is_over(
    now, rules, basic, django_capture_on_commit_callbacks
):
    client = spender()
    with django_capture_on_commit_callbacks(execute=True):
        campaign_run(now=NOW)
    offer_decline(offer=ConversionOffer.objects.get())

    with django_capture_on_commit_callbacks(execute=True):
        inside = campaign_run(now=NOW + 89 * DAY)
        after = campaign_run(now=NOW + 91 * DAY)

    assert inside.offers_created == 0
    assert after.offers_created == 1
    assert ConversionOffer.objects.get(campaign_run=after).client == client


def test_a_run_offers_at_most_max_offers_per_run_the_best_ranked_first(
    now, rules, basic, django_capture_on_commit_callbacks
):
    third = spender("600.00")
    first = spender("900.00")
    second = spender("700.00")
    campaign_rules(max_offers_per_run=2)

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW)
        later = campaign_run(now=NOW + DAY)

    assert {o.client for o in run.offers.all()} == {first, second}
    assert (run.offers_created, run.eligible_clients) == (2, 3)
    # The next run reaches the client the cap left out; the others have open offers.
    assert [o.client for o in later.offers.all()] == [third]


def test_a_run_with_no_offered_plan_is_recorded_with_no_offers(
    now, rules, mailoutbox, django_capture_on_commit_callbacks
):
    PlanFactory(is_offered=False)
    spender()

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW, trigger=CampaignTrigger.MANUAL)

    assert CampaignRun.objects.get() == run
    assert run.offers_created == 0
    # Who qualified is still worth knowing: they wait for a plan to be offered.
    assert run.eligible_clients == 1
    assert not ConversionOffer.objects.exists()
    assert mailoutbox == []


def test_the_scheduled_task_runs_a_scheduled_campaign(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    spender(), spender()

    with django_capture_on_commit_callbacks(execute=True):
        created = campaign_run_task()

    run = CampaignRun.objects.get()
    assert created == run.offers_created == 2
    assert run.trigger == CampaignTrigger.SCHEDULE
    assert run.triggered_by is None
    assert len(mailoutbox) == 2
