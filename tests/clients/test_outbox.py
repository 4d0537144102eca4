"""The outbox (clients/outbox.py): rows written in the caller's transaction, one per recipient
under an idempotency key; delivered with exact outcomes against a real SMTP server on loopback
(tests/smtp.py); swept up when no worker delivered them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from clients.models import EmailKind, EmailStatus, OutboundEmail
from clients.outbox import (
    MAX_ATTEMPTS,
    outbox_add,
    outbox_deliver,
    outbox_needing_delivery,
    outbox_requeue_all,
    outbox_send_again,
    retry_delay,
)
from clients.sending import stale_claim_age
from clients.tasks import outbox_sweep_task
from tests.conftest import NOW
from tests.factories import ClientFactory
from tests.smtp import Inbox

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


def _message(*to: str, subject: str = "Your ticket #7") -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=subject, body="We have it.", from_email="desk@practice.example", to=list(to)
    )
    message.attach_alternative("<p>We have it.</p>", "text/html")
    return message


def _add(*to: str, key: str = "ticket-acknowledgement:7", **fields: Any) -> list[int]:
    with transaction.atomic():
        return outbox_add(_message(*to), kind=EmailKind.TICKET_ACKNOWLEDGEMENT, key=key, **fields)


def _statuses(ids: list[int]) -> list[str]:
    by_id = dict(OutboundEmail.objects.filter(pk__in=ids).values_list("pk", "status"))
    return [by_id[pk] for pk in ids]


@pytest.fixture
def smtp(settings: Any, inbox: Inbox) -> Inbox:
    """Django's SMTP backend pointed at the loopback server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return inbox


# --- Writing ------------------------------------------------------------------------------------
def test_each_recipient_gets_a_row_of_its_own_under_the_emails_key(now):
    client = ClientFactory()

    ids = _add("Ann <ann@acme.example>", "bob@acme.example", client=client)

    rows = list(OutboundEmail.objects.filter(pk__in=ids).order_by("pk"))
    assert [(r.to, r.key) for r in rows] == [
        ("Ann <ann@acme.example>", "ticket-acknowledgement:7:ann@acme.example"),
        ("bob@acme.example", "ticket-acknowledgement:7:bob@acme.example"),
    ]
    for row in rows:
        assert (row.subject, row.text, row.html) == (
            "Your ticket #7",
            "We have it.",
            "<p>We have it.</p>",
        )
        assert (row.status, row.attempts, row.client) == (EmailStatus.PENDING, 0, client)
        assert row.created_at == row.next_attempt_at == row.queued_at == NOW


def test_a_service_that_runs_twice_for_one_cause_writes_one_row_per_recipient(now):
    first = _add("ann@acme.example", "bob@acme.example")
    again = _add("ann@acme.example", "bob@acme.example")

    assert again == first
    assert OutboundEmail.objects.count() == 2


def test_a_row_already_sent_is_not_handed_out_again_by_a_rewrite(now):
    (sent,) = _add("ann@acme.example")
    OutboundEmail.objects.filter(pk=sent).update(status=EmailStatus.SENT, sent_at=NOW)

    assert _add("ann@acme.example") == []


def _failing_change() -> None:
    with transaction.atomic():
        outbox_add(_message("ann@acme.example"), kind=EmailKind.TICKET_REPLY, key="r:1")
        raise RuntimeError("the change failed")


def test_rows_roll_back_with_the_change_that_wrote_them(now, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
        _failing_change()

    assert OutboundEmail.objects.count() == 0
    assert callbacks == []


def test_delivery_is_queued_only_once_the_transaction_commits(
    now, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (email_id,) = _add("ann@acme.example")
        assert mailoutbox == []

    (message,) = mailoutbox
    assert message.to == ["ann@acme.example"]
    assert message.extra_headers["Message-ID"] == f"<outbox-{email_id}@crm.example.com>"
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.sent_at, row.attempts) == (EmailStatus.SENT, NOW, 1)


# --- Delivering: the outcomes are exact ---------------------------------------------------------
def test_a_message_the_server_accepts_is_sent_once_and_recorded(now, smtp):
    ids = _add("ann@acme.example", "bob@acme.example")

    assert outbox_deliver(ids).sent == ids
    assert outbox_deliver(ids).sent == []  # a second delivery of the same rows sends nothing

    assert sorted(d.recipients for d in smtp.deliveries) == [
        ("ann@acme.example",),
        ("bob@acme.example",),
    ]
    assert _statuses(ids) == [EmailStatus.SENT] * 2
    message = smtp.messages[0]
    assert message["Subject"] == "Your ticket #7"
    assert message["Message-ID"] == f"<outbox-{ids[0]}@crm.example.com>"


@pytest.mark.parametrize("where", ["refuse_rcpt", "refuse_data"])
def test_a_permanent_refusal_is_undeliverable_and_never_tried_again(now, smtp, where):
    refused, after = _add("gone@acme.example", "bob@acme.example")
    getattr(smtp, where)["gone@acme.example"] = "550 5.1.1 No such user"

    delivery = outbox_deliver([refused, after])

    assert (delivery.sent, delivery.undeliverable) == ([after], [refused])
    row = OutboundEmail.objects.get(pk=refused)
    assert (row.status, row.sent_at, row.claimed_at) == (EmailStatus.UNDELIVERABLE, None, None)
    assert "550" in row.last_error
    assert "No such user" in row.last_error
    del getattr(smtp, where)["gone@acme.example"]
    assert outbox_deliver([refused]).sent == []
    assert outbox_needing_delivery(NOW + dt.timedelta(days=1)) == []
    assert [d.recipients for d in smtp.deliveries] == [("bob@acme.example",)]


@pytest.mark.parametrize("where", ["refuse_rcpt", "refuse_data"])
def test_a_temporary_refusal_waits_its_backoff_and_the_batch_goes_on(now, smtp, where):
    busy, after = _add("busy@acme.example", "bob@acme.example")
    getattr(smtp, where)["busy@acme.example"] = "451 4.3.0 Try again later"

    delivery = outbox_deliver([busy, after])

    assert (delivery.sent, delivery.retrying) == ([after], [busy])
    row = OutboundEmail.objects.get(pk=busy)
    assert (row.status, row.attempts, row.sent_at) == (EmailStatus.PENDING, 1, None)
    assert row.next_attempt_at == NOW + MINUTE
    assert "451" in row.last_error
    # Not due yet: another delivery leaves it alone.
    assert outbox_deliver([busy]).sent == []
    assert outbox_needing_delivery(NOW + MINUTE - SECOND) == []


def test_a_refused_sender_stops_the_batch_and_every_email_waits_to_be_tried_again(now, smtp):
    # "530 Authentication required": the practice's own mail settings, wrong for every message
    # alike. Nothing is undeliverable; the first waits its backoff, the rest go back untried.
    first, second = _add("ann@acme.example", "bob@acme.example")
    smtp.refuse_sender = "530 5.7.0 Authentication required"

    delivery = outbox_deliver([first, second])

    assert (delivery.sent, delivery.undeliverable, delivery.retrying) == ([], [], [first])
    rows = {row.pk: row for row in OutboundEmail.objects.filter(pk__in=[first, second])}
    assert [rows[first].status, rows[second].status] == [EmailStatus.PENDING] * 2
    assert [rows[first].attempts, rows[second].attempts] == [1, 0]
    assert "530" in rows[first].last_error
    smtp.refuse_sender = None
    assert sorted(outbox_deliver([first, second], now=NOW + 2 * MINUTE).sent) == [first, second]
    assert len(smtp.deliveries) == 2


def test_a_long_encoded_name_fits_the_row(now, smtp):
    # A display name past 400 characters, as a long accented name becomes once encoded (200
    # letters give some 560): it must neither fail the write nor be cut.
    name = "é" * 450
    (row,) = _add(f"{name} <ann@acme.example>")

    assert outbox_deliver([row]).sent == [row]
    assert smtp.deliveries[0].recipients == ("ann@acme.example",)


def test_the_backoff_doubles_from_a_minute_to_at_most_an_hour():
    assert [retry_delay(n) // MINUTE for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_temporary_refusals_back_off_then_the_email_goes_once(now, smtp, time_machine):
    (email_id,) = _add("busy@acme.example")
    smtp.refuse_rcpt["busy@acme.example"] = "450 4.2.1 Mailbox busy"
    waits = []
    at = NOW
    for _try in range(3):
        outbox_deliver([email_id])
        row = OutboundEmail.objects.get(pk=email_id)
        waits.append(row.next_attempt_at - at)
        at = row.next_attempt_at
        time_machine.move_to(at, tick=False)
        assert outbox_needing_delivery(at) == [email_id]
    del smtp.refuse_rcpt["busy@acme.example"]

    assert outbox_deliver([email_id]).sent == [email_id]

    assert waits == [MINUTE, 2 * MINUTE, 4 * MINUTE]
    assert [d.recipients for d in smtp.deliveries] == [("busy@acme.example",)]
    row = OutboundEmail.objects.get(pk=email_id)
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.SENT, 4, "")


def test_after_its_last_try_a_temporary_failure_is_undeliverable(now, smtp):
    (email_id,) = _add("busy@acme.example")
    OutboundEmail.objects.filter(pk=email_id).update(attempts=MAX_ATTEMPTS - 1)
    smtp.refuse_rcpt["busy@acme.example"] = "450 4.2.1 Mailbox busy"

    assert outbox_deliver([email_id]).undeliverable == [email_id]

    row = OutboundEmail.objects.get(pk=email_id)
    assert row.status == EmailStatus.UNDELIVERABLE
    assert row.last_error.startswith(f"Gave up after {MAX_ATTEMPTS} tries. Last: ")


@pytest.mark.parametrize("where", ["drop_mid_data", "drop_after_data"])
def test_a_connection_dropped_mid_message_is_retried_never_marked_sent(
    now, smtp, time_machine, where
):
    first, dropped, rest = _add("ann@acme.example", "drop@acme.example", "cy@acme.example")
    getattr(smtp, where).add("drop@acme.example")

    delivery = outbox_deliver([first, dropped, rest])

    assert (delivery.sent, delivery.retrying) == ([first], [dropped])
    assert smtp.dropped == 1
    assert _statuses([first, dropped, rest]) == [EmailStatus.SENT] + [EmailStatus.PENDING] * 2
    row = OutboundEmail.objects.get(pk=dropped)
    assert (row.attempts, row.sent_at, row.next_attempt_at) == (1, None, NOW + MINUTE)
    assert "SMTPServerDisconnected" in row.last_error
    untried = OutboundEmail.objects.get(pk=rest)
    assert (untried.attempts, untried.next_attempt_at) == (0, NOW + MINUTE)  # not its fault

    # The server is well again; a minute on, the sweeper sends the two, once each.
    getattr(smtp, where).clear()
    time_machine.move_to(NOW + MINUTE, tick=False)
    assert outbox_sweep_task() == 2
    assert sorted(d.recipients for d in smtp.deliveries) == [
        ("ann@acme.example",),
        ("cy@acme.example",),
        ("drop@acme.example",),
    ]
    assert _statuses([first, dropped, rest]) == [EmailStatus.SENT] * 3


def test_a_server_that_is_down_costs_every_row_a_try_and_a_backoff(now, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens on discard
    ids = _add("ann@acme.example", "bob@acme.example")

    assert outbox_deliver(ids).retrying == ids

    for row in OutboundEmail.objects.filter(pk__in=ids):
        assert (row.status, row.attempts, row.next_attempt_at) == (
            EmailStatus.PENDING,
            1,
            NOW + MINUTE,
        )
        assert "Connection refused" in row.last_error


# --- Sweeping, requeueing, sending again --------------------------------------------------------
def test_the_sweeper_takes_what_no_worker_delivered_and_leaves_the_rest(now):
    def row(to: str, **fields: Any) -> int:
        (email_id,) = _add(to, key=f"k:{to}")
        OutboundEmail.objects.filter(pk=email_id).update(**fields)
        return email_id

    lost = row("lost@x.example", queued_at=NOW - MINUTE - SECOND)
    never_queued = row("due@x.example", queued_at=None, next_attempt_at=NOW)
    row("fresh@x.example", queued_at=NOW - MINUTE + SECOND)
    row("waiting@x.example", queued_at=None, next_attempt_at=NOW + SECOND)
    dead = row(
        "dead@x.example", status=EmailStatus.SENDING, claimed_at=NOW - stale_claim_age() - SECOND
    )
    row("live@x.example", status=EmailStatus.SENDING, claimed_at=NOW - SECOND)
    row("sent@x.example", status=EmailStatus.SENT, sent_at=NOW - dt.timedelta(hours=1))
    row("bad@x.example", status=EmailStatus.UNDELIVERABLE, queued_at=None)

    assert outbox_needing_delivery(NOW) == [lost, never_queued, dead]
    # Marked queued: a sweep within the minute leaves the pending ones be (a dead worker's
    # claim is queued until a worker takes it).
    assert outbox_needing_delivery(NOW) == [dead]


def test_the_sweeper_delivers_what_it_finds(now, mailoutbox):
    (email_id,) = _add("ann@acme.example")
    OutboundEmail.objects.filter(pk=email_id).update(queued_at=NOW - 2 * MINUTE)

    assert outbox_sweep_task() == 1

    assert [m.to for m in mailoutbox] == [["ann@acme.example"]]
    assert _statuses([email_id]) == [EmailStatus.SENT]


def test_requeueing_after_an_outage_takes_every_pending_row_at_once(now):
    (waiting,) = _add("waiting@x.example", key="a")
    (fresh,) = _add("fresh@x.example", key="b")
    OutboundEmail.objects.filter(pk=waiting).update(next_attempt_at=NOW + dt.timedelta(hours=1))

    assert outbox_requeue_all(NOW) == [waiting, fresh]
    assert OutboundEmail.objects.get(pk=waiting).next_attempt_at == NOW


def test_a_manager_sends_an_undeliverable_email_again(now, mailoutbox):
    (bad,) = _add("bad@x.example", key="a")
    (sent,) = _add("sent@x.example", key="b")
    OutboundEmail.objects.filter(pk=bad).update(
        status=EmailStatus.UNDELIVERABLE, attempts=3, last_error="550 No such user"
    )
    OutboundEmail.objects.filter(pk=sent).update(status=EmailStatus.SENT, sent_at=NOW)

    with transaction.atomic():
        assert outbox_send_again([bad, sent]) == [bad]

    row = OutboundEmail.objects.get(pk=bad)
    assert (row.status, row.attempts, row.next_attempt_at) == (EmailStatus.PENDING, 0, NOW)
    assert _statuses([sent]) == [EmailStatus.SENT]
