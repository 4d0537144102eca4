"""What the fault tests share: the broker a test and its workers use, the data they send, and
the one outcome every fault test asserts, each email received exactly once.

The fixtures that start the brokers and the workers are in conftest.py; the servers a test may
stop are in private_servers.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import runpy
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from clients.models import Charge, Client, Contact, EmailStatus, OutboundEmail
from clients.sending import stale_claim_age
from consultancy.celery import app as celery_app
from offers.models import ConversionOffer
from tests.factories import ChargeFactory, ClientFactory, ContactFactory, PlanFactory
from tests.integration.private_servers import PrivateRedis
from tests.integration.servers import ROOT, drop_producer_connections
from tests.smtp import Inbox

# The celery settings a web process takes from consultancy/settings.py, by the app's name.
_PUBLISHING = {
    "broker_url": "CELERY_BROKER_URL",
    "broker_transport_options": "CELERY_BROKER_TRANSPORT_OPTIONS",
    "broker_connection_timeout": "CELERY_BROKER_CONNECTION_TIMEOUT",
    "task_publish_retry_policy": "CELERY_TASK_PUBLISH_RETRY_POLICY",
}
# What chooses the broker; the test says which, not the shell it was started from.
BROKER_VARIABLES = ("REDIS_URL", "DJANGO_VAR_DIR")


@dataclass(frozen=True)
class FaultBroker:
    """The broker a fault test and its workers share: the environment that names it (given to
    every worker the test starts), and the private Redis behind it, when it is one."""

    env: dict[str, str]
    redis: PrivateRedis | None = None


def settings_under(env: Mapping[str, str]) -> dict[str, Any]:
    """consultancy/settings.py as a process started with `env` reads it."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in BROKER_VARIABLES and not key.startswith("CELERY_")
    }
    with mock.patch.dict(os.environ, {**clean, "DJANGO_DEVELOPMENT": "true", **env}, clear=True):
        return runpy.run_path(str(ROOT / "consultancy" / "settings.py"))


@contextlib.contextmanager
def publishing_to(broker: FaultBroker) -> Iterator[None]:
    """Make this process publish as a web process started with the broker's environment would:
    its URL, transport options, connection timeout and publish retries; not eagerly."""
    production = settings_under(broker.env)
    saved = {key: celery_app.conf[key] for key in [*_PUBLISHING, "task_always_eager"]}
    drop_producer_connections()
    celery_app.conf.update(
        {key: production[name] for key, name in _PUBLISHING.items()}, task_always_eager=False
    )
    try:
        # CELERY_BROKER_URL in the environment would win over the configuration.
        assert celery_app.conf.broker_write_url == production["CELERY_BROKER_URL"]
        yield
    finally:
        drop_producer_connections()
        celery_app.conf.update(saved)


# --- Data ---------------------------------------------------------------------------------------
def create_eligible_clients(count: int, *, plan: bool = True) -> dict[str, int]:
    """Transactional clients well over the spend threshold, each with a primary contact, that
    the plan (made too, unless `plan` is False) saves money (1,250.00 paid; 12 x 90.00 less the
    discount, no overage).

    Returns each client's offer address with its id.
    """
    if plan:
        PlanFactory(name="Essentials", monthly_price=Decimal("90.00"), included_hours=Decimal("6"))
    clients = Client.objects.bulk_create(ClientFactory.build_batch(count))
    contacts = Contact.objects.bulk_create(ContactFactory.build(client=c) for c in clients)
    Charge.objects.bulk_create(
        ChargeFactory.build(client=c, amount=Decimal("1250.00"), hours=Decimal("5.00"))
        for c in clients
    )
    return {contact.email: contact.client_id for contact in contacts}


# --- Outcomes -----------------------------------------------------------------------------------
def outbox_statuses() -> Counter[str]:
    return Counter(OutboundEmail.objects.values_list("status", flat=True))


def offer_statuses() -> Counter[str]:
    return Counter(ConversionOffer.objects.values_list("status", flat=True))


def outbox_message_id(pk: int) -> str:
    return f"<outbox-{pk}@{settings.EMAIL_MESSAGE_DOMAIN}>"


def offer_message_id(pk: int) -> str:
    return f"<offer-{pk}-offer@{settings.EMAIL_MESSAGE_DOMAIN}>"


def assert_each_email_once(
    inbox: Inbox, *, emails: Iterable[OutboundEmail], offers: Iterable[ConversionOffer]
) -> None:
    """The mail server holds exactly these emails, each once: one message per outbox row and per
    offer (by its Message-ID, the same on every try), and never two of one subject to one
    recipient."""
    expected: Counter[str] = Counter()
    addressed: Counter[tuple[str, str]] = Counter()
    for email in emails:
        expected[outbox_message_id(email.pk)] += 1
        addressed[email.to, email.subject] += 1
    for offer in offers:
        expected[offer_message_id(offer.pk)] += 1
    received = Counter(d.message["Message-ID"] for d in inbox.deliveries)
    twice = {key: n for key, n in received.items() if n > 1}
    lost = sorted(set(expected) - set(received))
    strangers = sorted(set(received) - set(expected))
    assert (twice, lost, strangers) == ({}, [], []), (
        f"received twice: {sorted(twice.items())[:5]}; never received ({len(lost)}): {lost[:5]}; "
        f"not expected ({len(strangers)}): {strangers[:5]}"
    )
    per_recipient_and_subject = Counter(
        (recipient, d.message["Subject"]) for d in inbox.deliveries for recipient in d.recipients
    )
    assert max(per_recipient_and_subject.values(), default=1) == 1, per_recipient_and_subject
    outbox_received = Counter(
        (d.message["To"], d.message["Subject"])
        for d in inbox.deliveries
        if d.message["Message-ID"].startswith("<outbox-")
    )
    assert outbox_received == addressed


# --- Time ---------------------------------------------------------------------------------------
def advance_outbox_clock(by: dt.timedelta) -> None:
    """Move the outbox's waiting rows `by` closer to their next try, as if that much time had
    passed: the backoff (1, 2, 4 ... minutes, clients.outbox.retry_delay) is a constant, not a
    setting, and a test cannot wait minutes. Only the rows' times move; the code is as is."""
    OutboundEmail.objects.filter(status=EmailStatus.PENDING).update(
        next_attempt_at=F("next_attempt_at") - by, queued_at=F("queued_at") - by
    )


def wait_until_stale(last_claim: dt.datetime) -> None:
    """Wait until a claim made at `last_claim` is stale, the shortest the time limit allows
    (clients.sending.stale_claim_age: the hard limit and 30 s)."""
    pause = (last_claim + stale_claim_age() - timezone.now()).total_seconds() + 0.5
    longest = stale_claim_age().total_seconds() + 0.5
    assert pause <= longest, f"asked to wait {pause:.0f} s, more than the {longest:.0f} s allowed"
    time.sleep(max(pause, 0))


def last_outbox_claim() -> dt.datetime:
    claimed = OutboundEmail.objects.filter(status=EmailStatus.SENDING).aggregate(Max("claimed_at"))
    return claimed["claimed_at__max"]
