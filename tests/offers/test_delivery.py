"""Sending offers (contracts.delivery, contracts.emails, the send tasks): each offer exactly once,
in batches over one connection; claims, stale claims, SMTP failures, reminders, the sweeper; and
the messages themselves (per-offer values, escaping, unsubscribe headers, no header injection)."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import smtplib
import socket
from decimal import Decimal
from email.utils import parseaddr
from typing import Any, ClassVar

import pytest
from django.conf import settings
from django.core.mail.backends import locmem
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.urls import reverse

from clients import mail as mail_module
from offers.delivery import offers_needing_delivery, offers_send_batch, stale_claim_age
from offers.emails import OfferMail, acceptance_messages
from offers.models import ConversionOffer, OfferStatus
from offers.services import offer_accept
from offers.tasks import offers_remind_task, offers_sweep_task
from offers.tokens import offer_token
from tests.conftest import DAY, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    OfferFactory,
    PendingOfferFactory,
    PlanFactory,
    campaign_rules,
)

pytestmark = pytest.mark.django_db

SECOND = dt.timedelta(seconds=1)


class RecordingBackend(locmem.EmailBackend):
    """The test outbox, remembering each connection made and what went over it."""

    connections: ClassVar[list[RecordingBackend]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened = 0
        self.sent = 0
        RecordingBackend.connections.append(self)

    def open(self) -> bool | None:
        self.opened += 1
        return super().open()

    def send_messages(self, messages: Any) -> int:
        count = super().send_messages(messages)
        self.sent += count
        return count


class DisconnectingBackend(RecordingBackend):
    """A mail server that hangs up when the third message of a connection starts."""

    def send_messages(self, messages: Any) -> int:
        if self.sent == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


REFUSED = "left-the-company@client.example"


class RefusingBackend(RecordingBackend):
    """A mail server that refuses one address for good (550: no such mailbox)."""

    answer = (550, b"5.1.1 No such user")

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if REFUSED in [parseaddr(r)[1] for r in message.recipients()]:
                raise smtplib.SMTPRecipientsRefused({REFUSED: self.answer})
        return super().send_messages(messages)


class BusyMailboxBackend(RefusingBackend):
    """A mail server that cannot take one address right now (450: try again later)."""

    answer = (450, b"4.2.1 Mailbox busy")


@pytest.fixture
def backend(settings: Any, mailoutbox: list[Any]) -> type[RecordingBackend]:
    RecordingBackend.connections = []
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    return RecordingBackend


def _pending(count: int, **fields: Any) -> list[ConversionOffer]:
    return [PendingOfferFactory(**fields) for _ in range(count)]


def _statuses(offers: list[ConversionOffer]) -> list[str]:
    return [ConversionOffer.objects.get(pk=o.pk).status for o in offers]


def _to(message: Any) -> str:
    (address,) = [parseaddr(a)[1] for a in message.to]
    return address


# --- One batch, one connection, each offer once ------------------------------------------------
def test_a_batch_sends_each_offer_once_over_one_connection_and_marks_it_sent(
    now, backend, mailoutbox
):
    offers = _pending(4)

    assert offers_send_batch([o.pk for o in offers]) == 4

    assert len(backend.connections) == 1
    (connection,) = backend.connections
    assert (connection.opened, connection.sent) == (1, 4)
    assert sorted(_to(m) for m in mailoutbox) == sorted(o.email for o in offers)
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
    offers = _pending(3)

    assert offers_send_batch([o.pk for o in offers]) == 3

    assert sorted(d.recipients for d in inbox.deliveries) == sorted((o.email,) for o in offers)
    assert _statuses(offers) == [OfferStatus.SENT] * 3
    # The "." goes out at once instead of waiting ~40 ms for the server's delayed ACK.
    assert len(nagle_off) == 1
    assert nagle_off[0]
    for delivery in inbox.deliveries:
        (text,) = [p for p in delivery.message.walk() if p.get_content_type() == "text/plain"]
        assert "/offers/" in text.get_payload(decode=True).decode()


def test_sending_the_same_batch_again_sends_nothing(now, backend, mailoutbox):
    offers = _pending(3)
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

    assert [_to(m) for m in mailoutbox] == [fresh.email]
    assert _statuses([expired, fresh]) == [OfferStatus.PENDING, OfferStatus.SENT]


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
    assert [_to(m) for m in mailoutbox] == [offer.email]


def test_the_stale_claim_age_outlasts_the_task_time_limit(settings):
    settings.CELERY_TASK_TIME_LIMIT = 300

    assert stale_claim_age() > dt.timedelta(seconds=300)


def test_an_smtp_failure_keeps_what_was_sent_and_hands_the_rest_back(now, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.DisconnectingBackend"
    offers = _pending(5)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        offers_send_batch([o.pk for o in offers])

    assert _statuses(offers) == [OfferStatus.SENT] * 2 + [OfferStatus.PENDING] * 3
    assert [_to(m) for m in mailoutbox] == [o.email for o in offers[:2]]
    for offer in offers[2:]:
        offer.refresh_from_db()
        assert offer.claimed_at is None  # the retry need not wait out the claim
        assert offer.sent_at is None

    # The retry sends the rest, and only the rest.
    settings.EMAIL_BACKEND = f"{__name__}.RecordingBackend"
    assert offers_send_batch([o.pk for o in offers]) == 3
    assert sorted(_to(m) for m in mailoutbox) == sorted(o.email for o in offers)


def test_an_address_the_server_refuses_for_good_does_not_hold_up_the_rest_of_the_batch(
    now, settings, mailoutbox
):
    # One contact left the company: the server answers 550 for that address every time. The
    # offers after it in the batch must still go out, and the refused one must not be retried
    # for ever (it would fail first on every retry and hold the whole batch up).
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    before = PendingOfferFactory()
    refused = PendingOfferFactory(contact=ContactFactory(email=REFUSED), email=REFUSED)
    after = PendingOfferFactory()
    batch = [before.pk, refused.pk, after.pk]

    for _retry in range(3):  # the send task's retries
        with contextlib.suppress(smtplib.SMTPException):
            offers_send_batch(batch)

    assert sorted(_to(m) for m in mailoutbox) == sorted([before.email, after.email])
    assert _statuses([before, refused, after]) == [
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
    settings.EMAIL_BACKEND = f"{__name__}.BusyMailboxBackend"
    before = PendingOfferFactory()
    busy = PendingOfferFactory(contact=ContactFactory(email=REFUSED), email=REFUSED)
    after = PendingOfferFactory()

    with pytest.raises(smtplib.SMTPRecipientsRefused):
        offers_send_batch([before.pk, busy.pk, after.pk])

    # A 4xx is the server's passing trouble: the batch stops and the task retries the rest.
    assert _statuses([before, busy, after]) == [
        OfferStatus.SENT,
        OfferStatus.PENDING,
        OfferStatus.PENDING,
    ]
    assert [_to(m) for m in mailoutbox] == [before.email]


@pytest.mark.parametrize("offers", [3, 6])
def test_a_batch_costs_one_update_per_message_and_nothing_else_per_offer(
    now, backend, django_assert_num_queries, offers
):
    plan = PlanFactory()
    batch = [o.pk for o in _pending(offers, plan=plan)]

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

    assert sorted(_to(m) for m in mailoutbox) == sorted([lost.email, dead_worker.email])
    assert _statuses([lost, just_made, dead_worker, live_worker, expired]) == [
        OfferStatus.SENT,
        OfferStatus.PENDING,
        OfferStatus.SENT,
        OfferStatus.SENDING,
        OfferStatus.PENDING,
    ]


def test_a_reminder_goes_once_and_only_inside_the_window(now, backend, mailoutbox, time_machine):
    campaign_rules(reminder_days_before_expiry=3)
    due = OfferFactory(expires_at=NOW + 2 * DAY)
    early = OfferFactory(expires_at=NOW + 4 * DAY)

    assert offers_remind_task() == 1
    assert offers_remind_task() == 0  # the same day again: nothing more

    (reminder,) = mailoutbox
    assert _to(reminder) == due.email
    assert reminder.subject.startswith("Reminder: your 11% loyalty offer ends")
    assert "A short reminder" in reminder.body
    due.refresh_from_db()
    assert due.reminded_at == NOW
    assert due.status == OfferStatus.SENT
    early.refresh_from_db()
    assert early.reminded_at is None

    # Two days later the other offer enters its window and gets its one reminder.
    time_machine.move_to(NOW + 2 * DAY, tick=False)
    assert offers_remind_task() == 1
    assert [_to(m) for m in mailoutbox] == [due.email, early.email]


# --- The messages -----------------------------------------------------------------------------
def test_an_offer_email_carries_the_offers_own_figures_and_links(now, backend, mailoutbox):
    client = ClientFactory(name="Acme Dental")
    ContactFactory(client=client, name="Dana Whitfield")
    offer = PendingOfferFactory(
        client=client, plan=PlanFactory(name="Essentials", monthly_price=Decimal("290.00"))
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    token = offer_token(offer)
    offer_url = settings.SITE_URL + reverse("offers:offer", args=[token])
    unsubscribe_url = settings.SITE_URL + reverse(
        "offers:unsubscribe", args=[offer_token(offer, "unsubscribe")]
    )
    assert message.to == [f"Dana Whitfield <{offer.email}>"]
    assert message.subject == "Acme Dental: guaranteed response times, 11% off for loyal clients"
    for part in (message.body, html):
        assert "Hello Dana Whitfield," in part
        assert "Essentials" in part
        assert "$258.10" in part
        assert "$290.00" in part
        assert "$2,550.00" in part
        assert "$3,097.20" in part
        assert "$547.20" in part  # the difference, to the cent
        assert "19.2 hours, 7 tickets" in part
        assert offer_url in part
        assert unsubscribe_url in part
        assert "[[offer:" not in part
    assert message.extra_headers["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["Message-ID"] == (
        f"<offer-{offer.pk}-offer@{settings.EMAIL_MESSAGE_DOMAIN}>"
    )


def test_an_offer_email_states_the_terms_the_client_would_sign_up_to(now, backend, mailoutbox):
    offer = PendingOfferFactory(
        plan=PlanFactory(
            name="Essentials",
            included_hours=Decimal("5.00"),
            overage_hourly_rate=Decimal("110.00"),
            term_months=12,
        )
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    for part in (message.body, message.alternatives[0][0]):
        assert "5 hours of work a month included; beyond that, $110.00 an hour." in part
        assert "in business hours: Monday to Friday, 08:00 to 18:00 (America/New_York time)" in part
        assert "12 months from the day you accept, renewed for another 12" in part
        assert "first response within 1 business hour, resolved within 4 business hours" in part


def test_an_offer_to_a_client_with_no_year_behind_it_thanks_nobody_for_loyalty(
    now, backend, mailoutbox
):
    # A manager offered a contract by hand before any work was done.
    offer = PendingOfferFactory(
        trailing_labour=Decimal("0.00"),
        trailing_priority=Decimal("0.00"),
        trailing_hours=Decimal("0.00"),
        trailing_tickets=0,
        priority_purchases=0,
    )

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    assert message.subject == f"{offer.client.name}: guaranteed response times, 11% off"
    reminder = OfferMail().build(offer, reminder=True)
    assert "loyalty" not in reminder.subject
    assert reminder.subject.startswith("Reminder: your 11% offer ends ")
    for part in (message.body, message.alternatives[0][0]):
        assert "job by job" not in part
        assert "last twelve months" not in part.lower()
        assert "$0.00" not in part
        assert "As one of our clients" in part
        assert "$258.10" in part


def test_each_template_variant_is_rendered_once_per_batch(now, backend, mailoutbox, monkeypatch):
    rendered: list[str] = []
    real_render = mail_module.render_to_string

    def counting_render(template: str, context: Any = None, **kwargs: Any) -> str:
        rendered.append(template)
        return real_render(template, context, **kwargs)

    monkeypatch.setattr(mail_module, "render_to_string", counting_render)
    essentials, premium = PlanFactory(), PlanFactory()
    offers = _pending(4, plan=essentials) + _pending(2, plan=premium)

    offers_send_batch([o.pk for o in offers])

    # Two variants (one per plan), each a subject, a text and an HTML template.
    assert sorted(rendered) == (
        ["emails/offer.html"] * 2 + ["emails/offer.txt"] * 2 + ["emails/offer_subject.txt"] * 2
    )
    # Rendered once, yet every message is its own: its own greeting and its own link.
    for offer, message in zip(offers, mailoutbox, strict=True):
        assert f"Hello {offer.contact.name}," in message.body
        assert reverse("offers:offer", args=[offer_token(offer)]) in message.body
        assert _to(message) == offer.email


def test_names_are_escaped_in_the_html_part_and_plain_in_the_text(now, backend, mailoutbox):
    offer = PendingOfferFactory(client=ClientFactory(name='Smith & Sons <"IT">'))

    offers_send_batch([offer.pk])

    (message,) = mailoutbox
    html = message.alternatives[0][0]
    assert "Smith &amp; Sons &lt;&quot;IT&quot;&gt;" in html
    assert '<"IT">' not in html
    assert 'offer Smith & Sons <"IT"> our' in message.body


EVIL = "Evil\r\nBcc: victim@x.example"


def _header_problems(message: Any) -> list[str]:
    """What is wrong with a message's headers: an injected Bcc, a multi-line Subject or To."""
    raw = message.message().as_string()
    parsed = email.message_from_string(raw, policy=email.policy.default)
    head = raw.split("\n\n", 1)[0]
    problems = []
    if parsed.get_all("Bcc") or any(line.lower().startswith("bcc:") for line in head.split("\n")):
        problems.append("a Bcc header")
    if "victim@x.example" in [parseaddr(r)[1] for r in message.recipients()]:
        problems.append("the victim among the recipients")
    for name in ("Subject", "To"):
        values = parsed.get_all(name) or []
        if len(values) != 1 or "\n" in str(values[0]) or "\r" in str(values[0]):
            problems.append(f"{name} is {values!r}")
    return problems


def test_a_line_break_in_a_client_or_contact_name_cannot_add_a_mail_header(
    now, backend, mailoutbox
):
    client = ClientFactory(name=EVIL)
    offer = PendingOfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))

    assert offers_send_batch([offer.pk]) == 1

    (message,) = mailoutbox
    assert _header_problems(message) == []
    assert [parseaddr(r)[1] for r in message.recipients()] == [offer.email]
    assert message.subject.startswith("Evil Bcc: victim@x.example: guaranteed")
    assert message.to == [f'"Evil Bcc: victim@x.example" <{offer.email}>']


def test_a_line_break_in_a_name_cannot_add_a_header_to_a_reminder(now, backend):
    client = ClientFactory(name=EVIL)
    offer = OfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))

    message = OfferMail().build(offer, reminder=True)

    assert _header_problems(message) == []


def test_a_line_break_in_a_name_cannot_add_a_header_to_the_acceptance_emails(now, manager):
    client = ClientFactory(name=EVIL)
    offer = OfferFactory(client=client, contact=ContactFactory(client=client, name=EVIL))
    offer_accept(offer=offer, ip=None, user_agent="")
    offer.refresh_from_db()

    messages = acceptance_messages(offer)

    assert len(messages) == 2
    for message in messages:
        assert _header_problems(message) == []
        assert "victim@x.example" not in [parseaddr(r)[1] for r in message.recipients()]
