"""Sending offers (offers.delivery, the send tasks): each offer exactly once, in batches over one
connection; claims, stale claims, SMTP failures, reminders, the sweeper."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import smtplib
import socket

import pytest
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.test import TestCase

from clients.models import EmailKind, OutboundEmail
from clients.sending import send_committing
from offers.delivery import (
    offers_needing_delivery,
    offers_send_batch,
    stale_claim_age,
)
from offers.emails import OfferMail
from offers.mailings import offers_remind
from offers.models import ConversionOffer, OfferStatus
from offers.tasks import offers_remind_task, offers_sweep_task
from tests.conftest import DAY, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    OfferFactory,
    PendingOfferFactory,
    PlanFactory,
    campaign_rules,
)
from tests.offers.mail_backends import (
    REFUSED,
    pending,
    recipient,
    statuses,
)

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


# --- One batch, one connection, each offer once ------------------------------------------------
def test_a_batch_sends_each_offer_once_over_one_connection_and_marks_it_sent(
    now, backend, mailoutbox
):
    offers = pending(4)

    assert offers_send_batch([o.pk for o in offers]) == 4

    assert len(backend.connections) == 1
    (connection,) = backend.connections
    assert (connection.opened, connection.sent) == (1, 4)
    assert sorted(recipient(m) for m in mailoutbox) == sorted(o.email for o in offers)
    for offer in offers:
        offer.refresh_from_db()
        assert offer.status == OfferStatus.SENT
        assert offer.sent_at == NOW
        assert offer.claimed_at is None
        assert offer.send_attempts == 1


def test_over_smtp_each_offer_arrives_once_and_the_final_dot_is_not_held_back(
    settings, inbox, monkeypatch
):
    # A real mail server on loopback: send_committing speaks SMTP itself (the sent record goes
    # between the message and its final "."), which the in-memory backends never exercise.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    nagle_off: list[int] = []
    close = SMTPBackend.close

    def close_noting_nodelay(self: SMTPBackend) -> None:
        if self.connection is not None:
            sock = self.connection.sock
            nagle_off.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        close(self)

    monkeypatch.setattr(SMTPBackend, "close", close_noting_nodelay)
    offers = pending(3)

    assert offers_send_batch([o.pk for o in offers]) == 3

    assert sorted(d.recipients for d in inbox.deliveries) == sorted((o.email,) for o in offers)
    assert statuses(offers) == [OfferStatus.SENT] * 3
    # The "." goes out at once instead of waiting ~40 ms for the server's delayed ACK.
    assert len(nagle_off) == 1
    assert nagle_off[0]
    for delivery in inbox.deliveries:
        (text,) = [p for p in delivery.message.walk() if p.get_content_type() == "text/plain"]
        assert "/offers/" in text.get_payload(decode=True).decode()


def _as_read(raw: bytes) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Headers (but the Date and the random boundary) and parts, as a mail client reads them."""
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    headers = [(k, str(v).strip()) for k, v in parsed.items() if k not in ("Date", "Content-Type")]
    parts = [
        (p.get_content_type(), p.get_content().replace("\r\n", "\n")) for p in parsed.iter_parts()
    ]
    return headers, parts


def test_over_smtp_an_offer_reads_as_djangos_own_encoding_of_it(settings, inbox, now):
    # send_committing encodes the message itself (clients.mime), not through Django: what
    # arrives must read the same, names with accents, line breaks and '=' included. The clock
    # stands still (`now`): the unsubscribe link's signature carries the second it was made,
    # and a build a second later would differ there.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    client = ClientFactory(name="Café Zoë = Müller\r\nBcc: victim@x.example")
    contact = ContactFactory(client=client, name="Zoë O'Brien, Jr\nBcc: victim@x.example")
    offer = PendingOfferFactory(client=client, contact=contact)

    assert offers_send_batch([offer.pk]) == 1

    (delivery,) = inbox.deliveries
    assert delivery.recipients == (offer.email,)
    expected = OfferMail().build(offer).message().as_bytes(linesep="\r\n")
    headers, parts = _as_read(delivery.message.as_bytes())
    assert (headers, parts) == _as_read(expected)
    assert "Bcc" not in dict(headers)
    assert "Café Zoë = Müller Bcc: victim@x.example" in dict(headers)["Subject"]
    assert [kind for kind, _ in parts] == ["text/plain", "text/html"]


@pytest.mark.parametrize(
    ("reply", "status"),
    [("554 5.7.1 Refused", OfferStatus.UNDELIVERABLE), ("451 4.3.0 Later", None)],
)
def test_over_smtp_a_message_refused_at_its_final_dot_is_not_left_marked_sent(
    settings, inbox, reply, status
):
    # The sent record is written before the final "."; when the server then refuses the message,
    # the record is taken back: for good (5xx) the offer is undeliverable, for now (4xx) the
    # batch stops and hands the offer back for the retry.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    refused, after = pending(2)
    inbox.refuse_data[refused.email] = reply

    if status is None:
        with pytest.raises(smtplib.SMTPDataError):
            offers_send_batch([refused.pk, after.pk])
        assert statuses([refused, after]) == [OfferStatus.PENDING] * 2
    else:
        assert offers_send_batch([refused.pk, after.pk]) == 1
        assert statuses([refused, after]) == [status, OfferStatus.SENT]
    refused.refresh_from_db()
    assert (refused.sent_at, refused.claimed_at) == (None, None)
    assert [d.recipients for d in inbox.deliveries] == ([] if status is None else [(after.email,)])


@pytest.mark.parametrize("where", ["drop_mid_data", "drop_after_data"])
def test_over_smtp_a_connection_dropped_mid_message_leaves_the_offer_to_send_again(
    settings, inbox, where
):
    # The server hangs up in the middle of the message, or after its final "." without an
    # answer: the sent record, written before the ".", is taken back, the batch stops and
    # hands the offer back, and the retry delivers it once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    first, dropped, last = pending(3)
    getattr(inbox, where).add(dropped.email)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        offers_send_batch([first.pk, dropped.pk, last.pk])

    assert inbox.dropped == 1
    assert statuses([first, dropped, last]) == [
        OfferStatus.SENT,
        OfferStatus.PENDING,
        OfferStatus.PENDING,
    ]
    dropped.refresh_from_db()
    assert (dropped.sent_at, dropped.claimed_at) == (None, None)

    getattr(inbox, where).clear()  # the server is well again: the task's retry
    assert offers_send_batch([first.pk, dropped.pk, last.pk]) == 2
    assert sorted(d.recipients for d in inbox.deliveries) == sorted(
        (o.email,) for o in (first, dropped, last)
    )


def test_over_smtp_each_email_built_ahead_goes_to_its_own_offer(settings, inbox):
    # The worker builds each next email while the server takes the last one: every email must
    # still be the one of the offer it is sent for.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    offers = pending(4)

    assert offers_send_batch([o.pk for o in offers]) == 4

    by_recipient = {d.recipients: d.message for d in inbox.deliveries}
    for offer in offers:
        message = by_recipient[(offer.email,)]
        (text,) = [p for p in message.walk() if p.get_content_type() == "text/plain"]
        assert f"Hello {offer.contact.name}," in text.get_payload(decode=True).decode()
        assert message["Message-ID"] == f"<offer-{offer.pk}-offer@{settings.EMAIL_MESSAGE_DOMAIN}>"


def test_a_refusal_at_the_final_dot_takes_the_record_back_even_if_the_work_meanwhile_failed(
    settings, inbox
):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    offer = PendingOfferFactory()
    inbox.refuse_data[offer.email] = "554 5.7.1 Refused"
    records: list[bool] = []

    def fails() -> None:
        raise RuntimeError("building the next message failed")

    message = OfferMail().build(offer)
    with (
        get_connection("django.core.mail.backends.smtp.EmailBackend") as connection,
        pytest.raises(smtplib.SMTPDataError),
    ):
        send_committing(connection, message, records.append, meanwhile=fails)

    assert records == [True, False]


def test_sending_the_same_batch_again_sends_nothing(now, backend, mailoutbox):
    offers = pending(3)
    offers_send_batch([o.pk for o in offers])

    assert offers_send_batch([o.pk for o in offers]) == 0

    assert len(mailoutbox) == 3
    assert {o.send_attempts for o in ConversionOffer.objects.all()} == {1}


def test_a_batch_of_offers_nobody_may_send_opens_no_connection(now, backend, mailoutbox):
    sent = OfferFactory()
    answered = [
        OfferFactory(status=s)
        for s in (OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.WITHDRAWN)
    ]

    assert offers_send_batch([sent.pk, *(o.pk for o in answered)]) == 0

    assert backend.connections == []
    assert mailoutbox == []


def test_an_offer_past_its_expiry_is_not_sent(now, backend, mailoutbox):
    expired = PendingOfferFactory(expires_at=NOW)
    fresh = PendingOfferFactory()

    assert offers_send_batch([expired.pk, fresh.pk]) == 1

    assert [recipient(m) for m in mailoutbox] == [fresh.email]
    assert statuses([expired, fresh]) == [OfferStatus.PENDING, OfferStatus.SENT]


def test_a_young_claim_belongs_to_a_live_worker_and_is_left_alone(now, backend, mailoutbox):
    claimed_at = NOW - stale_claim_age() + SECOND
    offer = PendingOfferFactory(status=OfferStatus.SENDING, claimed_at=claimed_at)

    assert offers_send_batch([offer.pk]) == 0

    offer.refresh_from_db()
    assert (offer.status, offer.claimed_at) == (OfferStatus.SENDING, claimed_at)
    assert mailoutbox == []


def test_a_claim_older_than_the_task_time_limit_is_taken_again(now, backend, mailoutbox):
    offer = PendingOfferFactory(
        status=OfferStatus.SENDING, claimed_at=NOW - stale_claim_age() - SECOND, send_attempts=1
    )

    assert offers_send_batch([offer.pk]) == 1

    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert offer.send_attempts == 2
    assert [recipient(m) for m in mailoutbox] == [offer.email]


def test_the_stale_claim_age_outlasts_the_task_time_limit(settings):
    settings.CELERY_TASK_TIME_LIMIT = 300

    assert stale_claim_age() > dt.timedelta(seconds=300)


def test_an_smtp_failure_keeps_what_was_sent_and_hands_the_rest_back(now, settings, mailoutbox):
    settings.EMAIL_BACKEND = "tests.offers.mail_backends.DisconnectingBackend"
    offers = pending(5)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        offers_send_batch([o.pk for o in offers])

    assert statuses(offers) == [OfferStatus.SENT] * 2 + [OfferStatus.PENDING] * 3
    assert [recipient(m) for m in mailoutbox] == [o.email for o in offers[:2]]
    for offer in offers[2:]:
        offer.refresh_from_db()
        assert offer.claimed_at is None  # the retry need not wait out the claim
        assert offer.sent_at is None

    # The retry sends the rest, and only the rest.
    settings.EMAIL_BACKEND = "tests.offers.mail_backends.RecordingBackend"
    assert offers_send_batch([o.pk for o in offers]) == 3
    assert sorted(recipient(m) for m in mailoutbox) == sorted(o.email for o in offers)


def test_an_address_the_server_refuses_for_good_does_not_hold_up_the_rest_of_the_batch(
    now, settings, mailoutbox
):
    # One contact left the company: the server answers 550 for that address every time. The
    # offers after it in the batch must still go out, and the refused one must not be retried
    # for ever (it would fail first on every retry and hold the whole batch up).
    settings.EMAIL_BACKEND = "tests.offers.mail_backends.RefusingBackend"
    before = PendingOfferFactory()
    refused = PendingOfferFactory(contact=ContactFactory(email=REFUSED), email=REFUSED)
    after = PendingOfferFactory()
    batch = [before.pk, refused.pk, after.pk]

    for _retry in range(3):  # the send task's retries
        with contextlib.suppress(smtplib.SMTPException):
            offers_send_batch(batch)

    assert sorted(recipient(m) for m in mailoutbox) == sorted([before.email, after.email])
    assert statuses([before, refused, after]) == [
        OfferStatus.SENT,
        OfferStatus.UNDELIVERABLE,
        OfferStatus.SENT,
    ]
    refused.refresh_from_db()
    assert refused.send_attempts == 1  # refused once, never tried again
    assert refused.sent_at is None
    # No longer open: the client can be offered again (at a corrected address) later.
    assert not ConversionOffer.objects.open().filter(pk=refused.pk).exists()


def test_an_address_the_server_cannot_take_right_now_is_tried_again_later(
    now, settings, mailoutbox
):
    settings.EMAIL_BACKEND = "tests.offers.mail_backends.BusyMailboxBackend"
    before = PendingOfferFactory()
    busy = PendingOfferFactory(contact=ContactFactory(email=REFUSED), email=REFUSED)
    after = PendingOfferFactory()

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        offers_send_batch([before.pk, busy.pk, after.pk])

    # A 4xx is the server's passing trouble: the batch stops and the task retries the rest.
    assert statuses([before, busy, after]) == [
        OfferStatus.SENT,
        OfferStatus.PENDING,
        OfferStatus.PENDING,
    ]
    assert [recipient(m) for m in mailoutbox] == [before.email]


@pytest.mark.parametrize("offers", [3, 6])
def test_a_batch_costs_one_update_per_message_and_nothing_else_per_offer(
    now, backend, django_assert_num_queries, offers
):
    plan = PlanFactory()
    batch = [o.pk for o in pending(offers, plan=plan)]

    # Claiming: a savepoint, the claimable ids, the claim, release: 4. Then the offers with
    # their clients, plans and contacts: 1; the plan's response targets, once for the batch's
    # one template variant: 1. Then one UPDATE per message, on purpose: an offer is marked sent
    # the moment the server took it, so a worker killed halfway never sends it twice.
    with django_assert_num_queries(4 + 1 + 1 + offers):
        assert offers_send_batch(batch) == offers


# --- The sweeper and reminders ----------------------------------------------------------------
def test_the_sweeper_sends_offers_whose_send_task_was_lost(now, backend, mailoutbox):
    # Pending for over an hour: its send task is lost (a big campaign drains well within that).
    lost = PendingOfferFactory(created_at=NOW - dt.timedelta(minutes=61))
    just_made = PendingOfferFactory(created_at=NOW - dt.timedelta(minutes=59))
    dead_worker = PendingOfferFactory(
        status=OfferStatus.SENDING, claimed_at=NOW - stale_claim_age() - SECOND
    )
    live_worker = PendingOfferFactory(status=OfferStatus.SENDING, claimed_at=NOW - SECOND)
    expired = PendingOfferFactory(created_at=NOW - 30 * DAY, expires_at=NOW - DAY)

    assert offers_needing_delivery(NOW) == [lost.pk, dead_worker.pk]
    assert offers_sweep_task() == 2

    assert sorted(recipient(m) for m in mailoutbox) == sorted([lost.email, dead_worker.email])
    assert statuses([lost, just_made, dead_worker, live_worker, expired]) == [
        OfferStatus.SENT,
        OfferStatus.PENDING,
        OfferStatus.SENT,
        OfferStatus.SENDING,
        OfferStatus.PENDING,
    ]


def _remind() -> int:
    """The day's reminder run; its emails go out when its transactions commit (the outbox)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return int(offers_remind_task())


def test_a_reminder_goes_once_and_only_inside_the_window(now, backend, mailoutbox, time_machine):
    campaign_rules(reminder_days_before_expiry=3)
    due = OfferFactory(expires_at=NOW + 2 * DAY)
    early = OfferFactory(expires_at=NOW + 4 * DAY)

    assert _remind() == 1
    assert _remind() == 0  # the same day again: nothing more

    (reminder,) = mailoutbox
    assert recipient(reminder) == due.email
    assert reminder.subject.startswith("Reminder: your 11% loyalty offer ends")
    assert "A short reminder" in reminder.body
    due.refresh_from_db()
    assert due.reminded_at == NOW
    assert due.status == OfferStatus.SENT
    early.refresh_from_db()
    assert early.reminded_at is None

    # Two days later the other offer enters its window and gets its one reminder.
    time_machine.move_to(NOW + 2 * DAY, tick=False)
    assert _remind() == 1
    assert [recipient(m) for m in mailoutbox] == [due.email, early.email]


def test_a_reminder_is_written_with_its_claim_and_never_twice(now, backend):
    due = OfferFactory(expires_at=NOW + 2 * DAY)
    campaign_rules(reminder_days_before_expiry=3)

    assert offers_remind([due.pk, due.pk]) == 1
    assert offers_remind([due.pk]) == 0

    (row,) = OutboundEmail.objects.all()
    assert (row.kind, row.key, row.client_id) == (
        EmailKind.OFFER_REMINDER,
        f"offer-reminder:{due.pk}:{due.email}",
        due.client_id,
    )
    assert row.subject.startswith("Reminder: ")
    assert "List-Unsubscribe" in row.headers
