"""The offer services (contracts.offers): campaign runs, one-off offers, the client's answer,
opting out, expiry and reminders. Emails leave after commit; tasks run eagerly in these tests."""

from __future__ import annotations

import datetime as dt
import re
import threading
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone

from clients.models import ChargeKind, Client, ClientStatus
from contracts.models import ContractStatus, ServiceContract
from contracts.services import client_drop_unless_contracted, contract_start
from offers import services as offers_module
from offers import tasks as offer_tasks
from offers.models import (
    CampaignRun,
    CampaignSettings,
    CampaignTrigger,
    ConversionOffer,
    OfferStatus,
)
from offers.services import (
    OfferClosed,
    OfferError,
    campaign_run,
    offer_accept,
    offer_decline,
    offer_send_now,
    offer_unsubscribe,
    offers_due_reminder,
    offers_expire,
)
from offers.tasks import campaign_run_task
from tests.conftest import DAY, NOW, TODAY
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PendingOfferFactory,
    PlanFactory,
    TicketFactory,
    campaign_rules,
)
from tickets.models import QueueTier, TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db: None) -> CampaignSettings:
    return campaign_rules(
        min_trailing_spend=Decimal("500.00"),
        min_trailing_tickets=4,
        cooldown_days=90,
        offer_lifetime_days=21,
        reminder_days_before_expiry=3,
        base_discount_percent=Decimal("5.00"),
        tenure_bonus_percent_per_year=Decimal("1.00"),
        max_discount_percent=Decimal("12.00"),
        max_offers_per_run=10_000,
    )


@pytest.fixture
def basic(db: None) -> Any:
    return PlanFactory(name="Basic", monthly_price=Decimal("290.00"), included_hours=5)


def _spender(
    spend: str = "600.00", *, name: str | None = None, at: dt.datetime = NOW, **fields: Any
) -> Client:
    """A reachable transactional client billed `spend` for labour a month before `at`."""
    client = OfferableClientFactory(**({"name": name} if name else {}), **fields)
    ChargeFactory(client=client, amount=Decimal(spend), occurred_at=at - 30 * DAY)
    return client


def _recipients(mailoutbox: list[Any]) -> list[str]:
    """The bare addresses the messages went to, one per recipient per message."""
    return sorted(parseaddr(to)[1] for message in mailoutbox for to in message.to)


# --- campaign_run -------------------------------------------------------------------------------
def test_a_campaign_run_offers_every_eligible_client_and_records_the_run(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    first, second = _spender("700.00"), _spender("900.00")
    _spender("100.00")  # below the threshold

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
    assert _recipients(mailoutbox) == sorted(o.email for o in offers)


def test_an_offer_carries_the_terms_and_figures_it_was_made_with(
    now, rules, basic, django_capture_on_commit_callbacks
):
    PlanFactory(name="Standard", monthly_price=Decimal("490.00"), included_hours=10)
    # Four full years a customer: 5% + 4 x 1% = 9%.
    client = OfferableClientFactory(customer_since=dt.date(2021, 3, 10))
    # 19.2 hours in a year is 1.6 a month: Basic covers it.
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
    assert (offer.client, offer.contact, offer.email) == (client, contact, contact.email)
    assert offer.plan == basic
    assert offer.status == OfferStatus.PENDING
    assert offer.list_price == Decimal("290.00")
    assert offer.discount_percent == Decimal("9.00")
    assert offer.monthly_price == Decimal("263.90")  # 290 x 0.91
    assert offer.contract_cost == Decimal("3166.80")  # 12 x 263.90
    assert offer.trailing_labour == Decimal("2400.00")
    assert offer.trailing_priority == Decimal("150.00")
    assert offer.trailing_spend == Decimal("2550.00")
    assert offer.savings == Decimal("-616.80")
    assert offer.trailing_hours == Decimal("19.20")
    assert offer.trailing_tickets == 7
    assert offer.priority_purchases == 2
    assert offer.created_at == NOW
    assert offer.expires_at == NOW + 21 * DAY
    assert len(offer.nonce) >= 16


def test_campaign_emails_leave_only_after_the_run_commits(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    _spender(), _spender()

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
    clients = [_spender() for _ in range(5)]

    with django_capture_on_commit_callbacks(execute=True):
        campaign_run(now=NOW)

    expected = sorted(c.contacts.get().email for c in clients)
    assert _recipients(mailoutbox) == expected
    assert ConversionOffer.objects.filter(status=OfferStatus.SENT).count() == 5


def test_a_run_that_fails_halfway_leaves_no_run_no_offers_and_no_emails(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    _spender(), _spender()
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


def test_a_second_run_right_away_offers_nobody_twice(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    _spender(), _spender()
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
    client = _spender()
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
    third = _spender("600.00")
    first = _spender("900.00")
    second = _spender("700.00")
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
    _spender()

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
    _spender(), _spender()

    with django_capture_on_commit_callbacks(execute=True):
        created = campaign_run_task()

    run = CampaignRun.objects.get()
    assert created == run.offers_created == 2
    assert run.trigger == CampaignTrigger.SCHEDULE
    assert run.triggered_by is None
    assert len(mailoutbox) == 2


# --- offer_send_now (a manager's decision) ----------------------------------------------------
def test_sending_an_offer_now_ignores_the_threshold_and_the_cooldown(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    client = OfferableClientFactory()  # spent nothing, raised no ticket
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 10 * DAY)

    with django_capture_on_commit_callbacks(execute=True):
        offer = offer_send_now(client=client, now=NOW)

    offer.refresh_from_db()
    assert offer.client == client
    assert offer.campaign_run is None
    assert offer.plan == basic
    assert offer.trailing_spend == Decimal("0.00")
    assert offer.status == OfferStatus.SENT
    assert _recipients(mailoutbox) == [client.contacts.get().email]


def _contract_client() -> Client:
    client = OfferableClientFactory()
    ContractFactory(client=client)
    return client


def _opted_out_client() -> Client:
    return OfferableClientFactory(offers_opt_out=True)


def _client_with_open_offer() -> Client:
    client = OfferableClientFactory()
    OfferFactory(client=client)
    return client


def _dropped_client() -> Client:
    return OfferableClientFactory(status=ClientStatus.DROPPED, dropped_at=NOW - DAY)


def _client_without_primary_contact() -> Client:
    client = ClientFactory()
    ContactFactory(client=client, is_primary=False)
    return client


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_contract_client, "it already holds a service contract."),
        (_opted_out_client, "it asked not to receive offers (opted out)."),
        (_client_with_open_offer, "it has an open offer already, until 31 March 2025."),
        (_dropped_client, "it has been dropped; reinstate it first."),
        (_client_without_primary_contact, "it has no primary contact to send the offer to"),
    ],
    ids=lambda f: f.__name__.strip("_") if callable(f) else "",
)
def test_sending_an_offer_now_refuses_clients_who_must_not_get_one_and_says_why(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, make, reason
):
    client = make()
    before = ConversionOffer.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(OfferError, match=re.escape(f"cannot be offered a contract: {reason}")),
    ):
        offer_send_now(client=client, now=NOW)

    assert ConversionOffer.objects.count() == before
    assert callbacks == []
    assert mailoutbox == []


def test_sending_an_offer_now_without_an_offered_plan_is_refused(now, rules):
    PlanFactory(is_offered=False)

    with pytest.raises(OfferError, match="No plan is offered"):
        offer_send_now(client=OfferableClientFactory(), now=NOW)

    assert not ConversionOffer.objects.exists()


# --- offer_accept ---------------------------------------------------------------------------------
def test_accepting_starts_the_contract_at_the_offered_price_and_records_who_accepted(now):
    offer = OfferFactory()
    # The plan's price went up after the offer was made: the offer's terms stand.
    offer.plan.monthly_price = Decimal("350.00")
    offer.plan.save()

    contract = offer_accept(offer=offer, ip="203.0.113.7", user_agent="Mail/1.0 " + "x" * 600)

    contract.refresh_from_db()
    assert contract.client == offer.client
    assert contract.plan == offer.plan
    assert contract.status == ContractStatus.ACTIVE
    assert contract.monthly_price == Decimal("258.10")
    assert contract.discount_percent == Decimal("11.00")
    assert contract.offer == offer
    assert contract.starts_on == TODAY
    assert contract.ends_on == dt.date(2026, 3, 9)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.responded_at == NOW
    assert offer.accepted_ip == "203.0.113.7"
    assert offer.accepted_user_agent == ("Mail/1.0 " + "x" * 600)[:500]


def test_accepting_turns_the_clients_open_tickets_into_contract_tickets(now):
    offer = OfferFactory()
    waiting = TicketFactory(client=offer.client, opened_at=NOW - 2 * DAY)
    working = TicketFactory(client=offer.client, status=TicketStatus.IN_PROGRESS)
    closed = TicketFactory(client=offer.client, status=TicketStatus.CLOSED, closed_at=NOW)

    contract = offer_accept(offer=offer, ip=None, user_agent="")

    for ticket in (waiting, working):
        ticket.refresh_from_db()
        assert ticket.queue_tier == QueueTier.CONTRACT
        assert ticket.contract == contract
        assert ticket.response_due_at is not None
    closed.refresh_from_db()
    assert closed.queue_tier == QueueTier.STANDARD
    assert closed.contract is None


def test_after_commit_the_client_gets_a_confirmation_and_the_managers_a_notice(
    now, manager: User, consultant: User, mailoutbox, django_capture_on_commit_callbacks
):
    offer = OfferFactory(client=ClientFactory(name="Acme Dental"))
    User.objects.create_user("eve", email="", is_staff=True).groups.add(
        *manager.groups.all()
    )  # a manager with no address is skipped

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        offer_accept(offer=offer, ip="203.0.113.7", user_agent="Mail/1.0")
    assert mailoutbox == []
    for callback in callbacks:
        callback()

    to_client, to_managers = mailoutbox
    assert to_client.to == [f"{offer.contact.name} <{offer.email}>"]
    assert to_client.subject == f"Welcome to your {offer.plan.name} service contract"
    assert "$258.10 a month" in to_client.body
    assert to_client.body.startswith(f"Hello {offer.contact.name},")
    assert to_managers.to == [manager.email]  # not the consultant
    assert to_managers.subject == f"Acme Dental accepted the {offer.plan.name} contract offer"
    assert "203.0.113.7" in to_managers.body


def test_an_offer_is_accepted_only_once(now, mailoutbox, django_capture_on_commit_callbacks):
    offer = OfferFactory()
    with django_capture_on_commit_callbacks(execute=True):
        offer_accept(offer=offer, ip="203.0.113.7", user_agent="first")

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(OfferClosed) as closed,
    ):
        offer_accept(offer=offer, ip="198.51.100.9", user_agent="second")

    assert closed.value.reason == "accepted"
    assert ServiceContract.objects.count() == 1
    offer.refresh_from_db()
    assert offer.accepted_user_agent == "first"
    assert len(mailoutbox) == 1  # the client's confirmation, from the first accept only


def test_starting_a_contract_by_hand_withdraws_the_clients_open_offer(now):
    offer = OfferFactory()

    contract_start(client=offer.client, plan=PlanFactory())

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.responded_at == NOW
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")
    assert closed.value.reason == "withdrawn"
    assert ServiceContract.objects.count() == 1


def test_dropping_a_client_withdraws_its_open_offer(now):
    offer = OfferFactory()

    client_drop_unless_contracted(client=offer.client, reason="Never converted")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")
    assert closed.value.reason == "withdrawn"
    assert not ServiceContract.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"status": ClientStatus.DROPPED, "dropped_at": NOW}, id="dropped"),
        pytest.param({"offers_opt_out": True}, id="opted-out"),
    ],
)
def test_an_open_offer_of_a_client_dropped_or_opted_out_by_other_means_cannot_be_accepted(
    now, change
):
    offer = OfferFactory()
    Client.objects.filter(pk=offer.client_id).update(**change)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")

    assert closed.value.reason == "withdrawn"
    assert not ServiceContract.objects.exists()


def test_when_the_contract_cannot_start_the_client_gets_a_plain_answer_and_the_offer_stays(now):
    offer = OfferFactory()
    offer.plan.service_levels.all().delete()  # a plan left without response targets

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")

    assert closed.value.reason == "withdrawn"
    assert str(closed.value) == (
        "We could not start the contract online; we will call you to set it up."
    )
    assert not ServiceContract.objects.exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_a_client_who_meanwhile_got_a_contract_cannot_accept(now):
    offer = OfferFactory()
    existing = ContractFactory(client=offer.client)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")

    assert closed.value.reason == "has_contract"
    assert list(ServiceContract.objects.all()) == [existing]
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert offer.responded_at is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (OfferStatus.DECLINED, "declined"),
        (OfferStatus.EXPIRED, "expired"),
        (OfferStatus.WITHDRAWN, "withdrawn"),
        (OfferStatus.UNDELIVERABLE, "withdrawn"),
    ],
)
def test_a_closed_offer_cannot_be_accepted(now, status, reason):
    offer = OfferFactory(status=status)

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")

    assert closed.value.reason == reason
    assert not ServiceContract.objects.exists()


def test_an_open_offer_past_its_expiry_cannot_be_accepted(now):
    offer = OfferFactory(created_at=NOW - 22 * DAY)  # expired a day ago, not swept yet

    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")

    assert closed.value.reason == "expired"
    assert not ServiceContract.objects.exists()


# --- offer_decline, offer_unsubscribe -------------------------------------------------------------
def test_declining_records_the_answer_and_closes_the_offer(now):
    offer = OfferFactory()

    offer_decline(offer=offer)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert offer.responded_at == NOW
    with pytest.raises(OfferClosed) as closed:
        offer_accept(offer=offer, ip=None, user_agent="")
    assert closed.value.reason == "declined"


def test_unsubscribing_opts_the_client_out_and_withdraws_its_open_offer(now):
    client = OfferableClientFactory()
    declined = OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 200 * DAY)
    open_offer = OfferFactory(client=client)
    someone_else = OfferFactory()

    offer_unsubscribe(offer=declined)  # any of the client's links will do

    client.refresh_from_db()
    assert client.offers_opt_out
    open_offer.refresh_from_db()
    assert open_offer.status == OfferStatus.WITHDRAWN
    assert open_offer.responded_at == NOW
    declined.refresh_from_db()
    assert declined.status == OfferStatus.DECLINED
    someone_else.refresh_from_db()
    assert someone_else.status == OfferStatus.SENT


def test_an_opted_out_client_is_not_offered_again(
    now, rules, basic, django_capture_on_commit_callbacks
):
    client = _spender()
    offer_unsubscribe(offer=OfferFactory(client=client, created_at=NOW - 200 * DAY))

    with django_capture_on_commit_callbacks(execute=True):
        run = campaign_run(now=NOW)
    with pytest.raises(OfferError):
        offer_send_now(client=client, now=NOW)

    assert run.offers_created == 0


# --- Expiry and reminders ---------------------------------------------------------------------
def test_expiry_closes_pending_and_sent_offers_past_their_time_only(now):
    pending_past = PendingOfferFactory(expires_at=NOW - DAY)
    sent_past = OfferFactory(expires_at=NOW)  # due this very instant
    sent_open = OfferFactory(expires_at=NOW + dt.timedelta(seconds=1))
    # A live worker is sending it this minute: it finishes (and marks it sent) undisturbed.
    being_sent = PendingOfferFactory(
        status=OfferStatus.SENDING, claimed_at=NOW - dt.timedelta(minutes=1), expires_at=NOW
    )
    answered = {
        status: OfferFactory(status=status, expires_at=NOW - DAY)
        for status in (
            OfferStatus.ACCEPTED,
            OfferStatus.DECLINED,
            OfferStatus.WITHDRAWN,
            OfferStatus.UNDELIVERABLE,
        )
    }

    assert offers_expire(now=NOW) == 2

    for offer, status in [
        (pending_past, OfferStatus.EXPIRED),
        (sent_past, OfferStatus.EXPIRED),
        (sent_open, OfferStatus.SENT),
        (being_sent, OfferStatus.SENDING),
        *((offer, status) for status, offer in answered.items()),
    ]:
        offer.refresh_from_db()
        assert offer.status == status
    # Running it again finds nothing: the first run closed them.
    assert offers_expire(now=NOW) == 0


def test_an_offer_stuck_in_sending_by_a_dead_worker_expires_and_frees_the_client(
    now, rules, basic, django_capture_on_commit_callbacks
):
    # A worker claimed the offer and died; before anyone took the claim again the offer's time
    # ran out. Nothing sends an expired offer (the claim skips them), so expiry must close it:
    # otherwise it stays "open" for ever and the client can never be offered again.
    client = _spender()
    stuck = PendingOfferFactory(
        client=client,
        status=OfferStatus.SENDING,
        claimed_at=NOW - 30 * DAY,
        created_at=NOW - 30 * DAY,
        expires_at=NOW - 9 * DAY,
    )

    offers_expire(now=NOW)

    stuck.refresh_from_db()
    assert stuck.status == OfferStatus.EXPIRED
    with django_capture_on_commit_callbacks(execute=True):
        later = campaign_run(now=NOW + 91 * DAY)
    assert later.offers_created == 1


def test_reminders_are_due_for_sent_offers_inside_the_window_not_reminded_yet(now, rules):
    at_the_edge = OfferFactory(expires_at=NOW + 3 * DAY)
    tomorrow = OfferFactory(expires_at=NOW + DAY)
    OfferFactory(expires_at=NOW + 3 * DAY + dt.timedelta(seconds=1))  # not yet
    OfferFactory(expires_at=NOW + DAY, reminded_at=NOW - DAY)  # reminded already
    OfferFactory(expires_at=NOW)  # its time is up
    PendingOfferFactory(expires_at=NOW + DAY)  # never sent: no reminder
    OfferFactory(status=OfferStatus.DECLINED, expires_at=NOW + DAY)

    assert offers_due_reminder(now=NOW, rules=rules) == [tomorrow.pk, at_the_edge.pk]


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------
def _race(workers: int, work: Any) -> tuple[list[Any], list[BaseException]]:
    """Run `work` in `workers` threads started together; return their results and errors."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as exc:  # reported by the test; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is still waiting on a lock"
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_of_one_offer_make_one_contract(mailoutbox):
    offer = OfferFactory()

    def accept() -> ServiceContract:
        return offer_accept(
            offer=ConversionOffer.objects.get(pk=offer.pk), ip="203.0.113.7", user_agent="tab"
        )

    contracts, errors = _race(2, accept)

    assert len(contracts) == 1, errors
    assert [type(e) for e in errors] == [OfferClosed], errors
    assert errors[0].reason == "accepted"  # type: ignore[attr-defined]
    assert ServiceContract.objects.get().offer.pk == offer.pk
    assert ConversionOffer.objects.get(pk=offer.pk).status == OfferStatus.ACCEPTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_campaign_runs_offer_each_client_once(mailoutbox):
    campaign_rules(min_trailing_spend=Decimal("500.00"), cooldown_days=90, max_offers_per_run=100)
    PlanFactory()
    # The real clock: the send tasks (in these threads) skip offers that have expired.
    clients = [_spender(at=timezone.now()) for _ in range(20)]

    runs, errors = _race(2, lambda: campaign_run(trigger=CampaignTrigger.MANUAL))

    assert not errors, errors
    # The settings row lock queues the second run behind the first; it then finds every client
    # with an open offer.
    assert sorted(r.offers_created for r in runs) == [0, len(clients)]
    assert ConversionOffer.objects.count() == len(clients)
    assert _recipients(mailoutbox) == sorted(c.contacts.get().email for c in clients)
