"""The outbox: every email of the practice but the offers is a row here before it is a message.

Writing: the service that causes an email calls `outbox_add` inside its own transaction, with
the email rendered there. One row per recipient, each under a key that names the cause and the
recipient, so a service that runs twice for one cause writes one row, and a failure on one
recipient (the managers' notice) never sends another's email (the client's confirmation) again.
Once the transaction commits, `outbox_written` is sent; clients.tasks queues the delivery. That
publish is only a first try: with the broker down it fails, the request answers as usual, and
the sweeper queues the row when the broker is back.

Delivering (`outbox_deliver`, run by the task): claim the rows (pending -> sending) in one
statement, send each over one connection with the offers' exactly-once rule (record "sent"
after the server holds the message and before its final "."; clients.sending), then per row:

- accepted ("250"): sent;
- refused for good (5xx): undeliverable, with the server's answer, shown to managers and never
  tried again unless a manager asks (the admin's "Send again");
- refused for now (4xx) or the connection failed (dropped mid-message, timed out, refused): back
  to pending with the error and an exponential backoff (1, 2, 4 ... minutes, at most an hour),
  until MAX_ATTEMPTS tries make it undeliverable.

Sweeping (`outbox_needing_delivery`, every minute): pending rows that are due and were not
queued in the last minute, and claims older than any live task (a worker that died). kombu's
filesystem transport deletes a message when a worker fetches it, and Redis loses what it held
in memory when it dies: the row, not the broker's message, is what makes an email durable.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import partial
from smtplib import SMTPRecipientsRefused, SMTPResponseException, SMTPSenderRefused

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from clients.mail import EMAIL_ERRORS
from clients.models import Client, EmailKind, EmailStatus, OutboundEmail
from clients.sending import is_permanent_refusal, send_committing, stale_claim_age
from clients.signals import outbox_written

log = logging.getLogger(__name__)

# A row that was queued this long ago and is still pending lost its task (the publish failed,
# or the broker lost the message): the sweeper queues it again.
REQUEUE_AFTER = dt.timedelta(minutes=1)
# Backoff after a temporary failure: 1, 2, 4 ... minutes, never more than an hour apart.
FIRST_RETRY = dt.timedelta(minutes=1)
LONGEST_RETRY = dt.timedelta(hours=1)
# About a day of tries (6 in the first hour, then hourly), then a manager is told instead.
MAX_ATTEMPTS = 30
SWEEP_LIMIT = 10_000


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th try failed for now."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _html_part(message: EmailMultiAlternatives) -> str:
    for content, mimetype in message.alternatives:
        if mimetype == "text/html":
            return str(content)
    return ""


def outbox_add(
    message: EmailMultiAlternatives,
    *,
    kind: EmailKind,
    key: str,
    client: Client | None = None,
    now: dt.datetime | None = None,
) -> list[int]:
    """Write `message` to the outbox, a row per recipient, in the caller's transaction; return
    the ids of the rows still to send. A row whose key exists already is left as it is."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_add belongs inside the transaction of the change it reports")
    # `now` is the moment of the change (a service may be given one); the row is due, and its
    # delivery queued, on the clock.
    clock = timezone.now()
    now = now or clock
    html = _html_part(message)
    rows, keys = [], []
    for to in dict.fromkeys(message.to):  # each recipient once, in the order given
        row_key = f"{key}:{parseaddr(to)[1].lower() or to}"
        keys.append(row_key)
        rows.append(
            OutboundEmail(
                kind=kind,
                key=row_key,
                client=client,
                from_email=message.from_email,
                to=to,
                subject=str(message.subject),
                text=str(message.body),
                html=html,
                headers=dict(message.extra_headers),
                created_at=now,
                next_attempt_at=clock,
                # The commit queues the delivery (clients.tasks); the sweeper reads this as
                # "queued at" and takes the row again if it is still pending a minute on.
                queued_at=clock,
            )
        )
    OutboundEmail.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        OutboundEmail.objects.filter(key__in=keys, status=EmailStatus.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ids:
        transaction.on_commit(partial(outbox_written.send, sender=OutboundEmail, email_ids=ids))
    return ids


# --- Delivering ---------------------------------------------------------------------------------
@dataclass
class Delivery:
    """What one delivery run did with the rows it was given (ids)."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    undeliverable: list[int] = field(default_factory=list)


def _claim(email_ids: Sequence[int], now: dt.datetime) -> list[int]:
    claimable = Q(status=EmailStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=EmailStatus.SENDING, claimed_at__lt=now - stale_claim_age()
    )
    with transaction.atomic():
        ids = list(
            OutboundEmail.objects.filter(claimable, pk__in=email_ids)
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=ids).update(
            status=EmailStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    return ids


def _record(email_id: int, sent: bool) -> None:
    """send_committing's record: committed at once (the task runs outside any transaction)."""
    if sent:
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.SENDING).update(
            status=EmailStatus.SENT, sent_at=timezone.now(), claimed_at=None, last_error=""
        )
    else:  # no "250" for the final "." after all: the row is still ours to deal with
        OutboundEmail.objects.filter(pk=email_id, status=EmailStatus.SENT).update(
            status=EmailStatus.SENDING, sent_at=None, claimed_at=timezone.now()
        )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _give_up(email: OutboundEmail, why: str) -> None:
    OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.UNDELIVERABLE, claimed_at=None, last_error=why
    )


def _postpone(email: OutboundEmail, exc: BaseException, now: dt.datetime) -> bool:
    """Back to pending with a backoff; False when it has had its tries (undeliverable)."""
    if email.attempts >= MAX_ATTEMPTS:
        _give_up(email, f"Gave up after {email.attempts} tries. Last: {_error_text(exc)}")
        return False
    OutboundEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.PENDING,
        claimed_at=None,
        queued_at=None,  # nobody queued the retry: the sweeper does once it is due
        next_attempt_at=now + retry_delay(email.attempts),
        last_error=_error_text(exc),
    )
    return True


def _hand_back(email_ids: Iterable[int]) -> None:
    """Rows claimed but never tried (the connection failed before them): pending again, the
    claim's attempt not counted, left to the sweeper after a minute's pause."""
    OutboundEmail.objects.filter(pk__in=list(email_ids), status=EmailStatus.SENDING).update(
        status=EmailStatus.PENDING,
        claimed_at=None,
        queued_at=None,
        attempts=F("attempts") - 1,
        next_attempt_at=timezone.now() + FIRST_RETRY,
    )


def _is_refusal(exc: BaseException) -> bool:
    """An answer about this message (the connection is still good for the next one). A refused
    sender is about every message: like a failed connection, it stops the batch."""
    if isinstance(exc, SMTPSenderRefused):
        return False
    return isinstance(exc, SMTPResponseException | SMTPRecipientsRefused)


def email_message(email: OutboundEmail) -> EmailMultiAlternatives:
    """The message a row holds. Its Message-ID is the row's, the same on every try, so a mail
    client can tell a repeat (the one a dropped "250" can cause) from a second email."""
    headers = {"Message-ID": f"<outbox-{email.pk}@{settings.EMAIL_MESSAGE_DOMAIN}>"}
    headers.update(email.headers)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=email.from_email,
        to=[email.to],
        headers=headers,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


def outbox_deliver(email_ids: Sequence[int], *, now: dt.datetime | None = None) -> Delivery:
    """Send the rows among `email_ids` that are due and nobody else holds, over one connection,
    and record each one's outcome (see the module's note)."""
    now = now or timezone.now()
    done = Delivery()
    claimed = _claim(email_ids, now)
    if not claimed:
        return done
    emails = list(OutboundEmail.objects.filter(pk__in=claimed).order_by("pk"))
    finished: set[int] = set()

    def wait(email: OutboundEmail, exc: BaseException) -> None:
        (done.retrying if _postpone(email, exc, now) else done.undeliverable).append(email.pk)
        finished.add(email.pk)

    connection = get_connection()
    current: OutboundEmail | None = None
    try:
        connection.open()
        for email in emails:
            current = email
            try:
                send_committing(connection, email_message(email), partial(_record, email.pk))
            except Exception as exc:
                if is_permanent_refusal(exc):
                    log.warning("email %s refused for good: %s", email.pk, exc)
                    _give_up(email, _error_text(exc))
                    done.undeliverable.append(email.pk)
                    finished.add(email.pk)
                elif _is_refusal(exc) or not isinstance(exc, EMAIL_ERRORS):
                    # "Not now" from the server, or this one message could not be built: the
                    # connection is still good for the next one.
                    log.warning("email %s not sent this time: %s", email.pk, exc)
                    wait(email, exc)
                else:
                    raise  # the connection is gone: this row and the rest wait below
                continue
            done.sent.append(email.pk)
            finished.add(email.pk)
    except EMAIL_ERRORS as exc:
        log.warning("outbox delivery stopped after %d of %d: %s", len(done.sent), len(emails), exc)
        if current is None:  # no connection at all: a try for every row
            for email in emails:
                wait(email, exc)
        else:
            if current.pk not in finished:
                wait(current, exc)
            _hand_back(pk for pk in claimed if pk not in finished)
    finally:
        with contextlib.suppress(*EMAIL_ERRORS):
            connection.close()
    return done


# --- Sweeping and requeueing --------------------------------------------------------------------
def _lost(now: dt.datetime) -> Q:
    """Claims older than any live task: their worker died."""
    return Q(status=EmailStatus.SENDING, claimed_at__lt=now - stale_claim_age())


def outbox_needing_delivery(now: dt.datetime) -> list[int]:
    """Rows whose delivery task is lost or due: pending and due, not queued in the last
    minute; or claimed by a worker that is gone. Marked queued now (the caller queues them)."""
    ids = list(
        OutboundEmail.objects.filter(
            Q(status=EmailStatus.PENDING, next_attempt_at__lte=now)
            & (Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER))
            | _lost(now)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    OutboundEmail.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def outbox_requeue_all(now: dt.datetime) -> list[int]:
    """For an operator after an outage: every pending row, its backoff cut short, and every
    claim a dead worker left, whatever was queued when. Young claims stay with their worker."""
    with transaction.atomic():
        OutboundEmail.objects.filter(status=EmailStatus.PENDING, next_attempt_at__gt=now).update(
            next_attempt_at=now
        )
        ids = list(
            OutboundEmail.objects.filter(Q(status=EmailStatus.PENDING) | _lost(now))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=ids).update(queued_at=now)
    return ids


def outbox_send_again(email_ids: Sequence[int], *, now: dt.datetime | None = None) -> list[int]:
    """A manager's "send again" on undeliverable rows (the address was corrected, the server
    fixed): pending, due now, tries counted afresh. Returns the ids; queued after commit."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboundEmail.objects.undeliverable()
            .filter(pk__in=email_ids)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        OutboundEmail.objects.filter(pk__in=ids).update(
            status=EmailStatus.PENDING, attempts=0, next_attempt_at=now, queued_at=now
        )
        if ids:
            transaction.on_commit(partial(outbox_written.send, sender=OutboundEmail, email_ids=ids))
    return ids


# --- What managers are told ----------------------------------------------------------------------
# Pending longer than this is more than a retry or two: the broker, the workers or the mail
# server has been down a while.
STUCK_AFTER = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class OutboxTrouble:
    undeliverable: int
    stuck: int

    stuck_minutes: int = STUCK_AFTER // dt.timedelta(minutes=1)

    def __bool__(self) -> bool:
        return bool(self.undeliverable or self.stuck)


def outbox_trouble(now: dt.datetime) -> OutboxTrouble:
    """How many emails no server would take, and how many have waited past STUCK_AFTER: one
    query on the (status, created_at) index, whatever the outbox holds."""
    counts = OutboundEmail.objects.filter(
        status__in=[EmailStatus.UNDELIVERABLE, EmailStatus.PENDING]
    ).aggregate(
        undeliverable=Count("pk", filter=Q(status=EmailStatus.UNDELIVERABLE)),
        stuck=Count("pk", filter=Q(status=EmailStatus.PENDING, created_at__lt=now - STUCK_AFTER)),
    )
    return OutboxTrouble(undeliverable=counts["undeliverable"], stuck=counts["stuck"])
