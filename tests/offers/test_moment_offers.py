"""Offers at the moment of need: a transactional client who buys paid priority, or whose ticket
waits too long for a first response, is offered a contract within the hour, under the campaign's
rules, once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from billing.models import RateCard
from clients.models import ChargeKind, ClientEvent, ClientEventKind
from offers.models import CampaignSettings, ConversionOffer, OfferKind, OfferSource, OfferStatus
from offers.moments import moment_offers
from offers.tasks import moment_offers_task
from tests.conftest import DAY, NOW
from tests.factories import (
    CalendarFactory,
    ChargeFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    campaign_rules,
)
from tests.offers.campaign_helpers import recipients
from tests.offers.conftest import bill_monthly
from tickets.services import ticket_open, ticket_reply

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


@pytest.fixture
def office_hours(rate_card: RateCard) -> RateCard:
    """The rate card's calendar: Monday to Friday, 08:00 to 18:00 in New York."""
    rate_card.calendar = CalendarFactory(name="Office", timezone="America/New_York")
    rate_card.save()
    return rate_card


# --- When a wait becomes too long ---------------------------------------------------------------
def test_a_transactional_ticket_knows_when_its_wait_becomes_too_long(now, rules, office_hours):
    client = _client()

    # NOW is Monday 10 March 2025, 12:00 in New York: six business hours are left today, so
    # the eighth falls at 10:00 on Tuesday (14:00 UTC).
    ticket = ticket_open(client=client, subject="Server down")

    assert ticket.long_wait_at == dt.datetime(2025, 3, 11, 14, 0, tzinfo=dt.UTC)


def test_without_a_calendar_on_the_rate_card_the_wait_counts_every_hour(now, rules, rate_card):
    rate_card.calendar = None
    rate_card.save()
    campaign_rules(need_wait_hours=4)

    ticket = ticket_open(client=_client(), subject="Server down")

    assert ticket.long_wait_at == NOW + 4 * HOUR


def test_a_contract_ticket_has_its_guarantee_and_no_long_wait(now, rules, office_hours):
    contract = ContractFactory()

    ticket = ticket_open(client=contract.client, subject="Server down")

    assert ticket.long_wait_at is None
    assert ticket.response_due_at is not None


# --- The scan -----------------------------------------------------------------------------------
def _client(**fields: Any) -> Any:
    """A reachable break-fix client that paid 250.00 in the year (two hours in December and
    January): a contract costs it less than double that, so need makes a value offer."""
    client = OfferableClientFactory(**fields)
    bill_monthly(client, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0])
    return client


def _priority_bought(client: Any, at: dt.datetime = NOW - HOUR) -> None:
    ChargeFactory(
        client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"), occurred_at=at
    )


def test_a_client_who_just_bought_priority_gets_a_value_offer_that_states_its_premium(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    client = _client()  # 250.00 in the year
    _priority_bought(client)

    with django_capture_on_commit_callbacks(execute=True):
        made = moment_offers(now=NOW)

    offer = ConversionOffer.objects.get()
    assert made == [offer.pk]
    assert (offer.source, offer.kind, offer.campaign_run) == (
        OfferSource.MOMENT,
        OfferKind.VALUE,
        None,
    )
    # 250.00 paid in the twelve whole months before this one; Basic at 7% off (two full years
    # a customer) is 37.20 a month, 446.40 a year: 196.40 more (79%), 16.37 a month.
    assert offer.trailing_spend == Decimal("250.00")
    assert offer.contract_cost == Decimal("446.40")
    assert offer.monthly_premium == Decimal("16.37")
    assert offer.need == "bought paid priority once"
    assert offer.status == OfferStatus.SENT
    (message,) = mailoutbox
    assert recipients(mailoutbox) == [offer.email]
    assert "never have to wait or pay extra" in message.body
    assert "You would have saved" not in message.body
    event = ClientEvent.objects.get(client=client, kind=ClientEventKind.OFFER_MADE)
    assert "at the moment of need: it bought paid priority once" in event.summary


def test_a_client_whose_ticket_waited_too_long_is_offered_and_one_answered_in_time_is_not(
    now, rules, basic, office_hours, consultant, time_machine, django_capture_on_commit_callbacks
):
    waiting = _client(name="Waiting")
    answered = _client(name="Answered")
    left_waiting = ticket_open(client=waiting, subject="Email down")
    in_time = ticket_open(client=answered, subject="Email down")
    time_machine.move_to(NOW + 2 * HOUR, tick=False)
    ticket_reply(ticket=in_time, body="On it.", actor=consultant)

    # Tuesday 14:30 UTC: both passed their long-wait moment (14:00); one was answered first.
    later = dt.datetime(2025, 3, 11, 14, 30, tzinfo=dt.UTC)
    time_machine.move_to(later, tick=False)
    with django_capture_on_commit_callbacks(execute=False):
        moment_offers(now=later)

    offer = ConversionOffer.objects.get()
    assert offer.client == waiting
    assert "waited over 8 business hours for a first response on a ticket" in offer.need
    assert left_waiting.long_wait_at < later


def test_the_scan_offers_nobody_twice_however_often_it_runs(
    now, rules, basic, django_capture_on_commit_callbacks
):
    client = _client()
    _priority_bought(client)

    with django_capture_on_commit_callbacks(execute=False):
        first = moment_offers(now=NOW)
        again = moment_offers(now=NOW)
        later = moment_offers(now=NOW + 2 * HOUR)

    assert len(first) == 1
    assert again == later == []
    assert ConversionOffer.objects.count() == 1


@pytest.mark.parametrize(
    "why",
    ["opted out", "open offer", "within the cooldown", "on a contract", "bought long ago"],
)
def test_the_scan_keeps_the_campaign_rules(now, rules, basic, why):
    client = _client(offers_opt_out=why == "opted out")
    _priority_bought(client, at=NOW - 2 * DAY if why == "bought long ago" else NOW - HOUR)
    if why == "open offer":
        OfferFactory(client=client, status=OfferStatus.SENT)
    if why == "within the cooldown":
        OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 30 * DAY)
    if why == "on a contract":
        ContractFactory(client=client)

    assert moment_offers(now=NOW) == []
    assert not ConversionOffer.objects.filter(source=OfferSource.MOMENT).exists()


def test_a_need_is_no_reason_to_ask_more_than_a_value_offer_may(now, rules, basic):
    # Nothing paid in the year: any contract is more than double the spend.
    _priority_bought(OfferableClientFactory())

    assert moment_offers(now=NOW) == []


def test_the_scan_does_nothing_when_the_setting_is_off(now, rules, basic):
    campaign_rules(moment_offers=False)
    _priority_bought(_client())

    assert moment_offers(now=NOW) == []


def test_the_scheduled_task_makes_the_offers(now, rules, basic, django_capture_on_commit_callbacks):
    _priority_bought(_client())

    with django_capture_on_commit_callbacks(execute=False):
        assert moment_offers_task.apply().get() == 1
    assert CampaignSettings.load().moment_offers
