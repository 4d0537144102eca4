"""Offers that run out: expiry of open offers and the reminders due before it."""

from __future__ import annotations

import datetime as dt

import pytest

from offers.models import OfferStatus
from offers.services import campaign_run, offers_due_reminder, offers_expire
from tests.conftest import DAY, NOW
from tests.factories import OfferFactory, PendingOfferFactory
from tests.offers.campaign_helpers import spender

pytestmark = pytest.mark.django_db


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
    client = spender()
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
