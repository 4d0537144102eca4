"""With the broker down (REDIS_URL pointing at a port where nothing listens) every page answers
as usual and at once: the change commits, its emails wait in the outbox, and they go out once
the broker is back (the sweeper, or `requeue_outbox` at once). Each request here commits for
real (transaction=True), so the publish after commit is the real one, against the dead port.
"""

from __future__ import annotations

import os
import runpy
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from unittest import mock

import kombu.pools
import pytest
from django.core.management import call_command
from django.urls import reverse

from clients.models import Charge, EmailKind, EmailStatus, OutboundEmail
from consultancy.celery import app as celery_app
from offers.models import ConversionOffer, OfferStatus
from offers.tokens import offer_token
from tests.conftest import SIGNER, free_port
from tests.factories import (
    ContactFactory,
    OfferableClientFactory,
    PendingOfferFactory,
    PlanFactory,
    campaign_rules,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = Path(__file__).resolve().parents[2] / "consultancy" / "settings.py"
# A request that meets a dead broker answers within this (the publish gives up in well under a
# second on a refused connection; Celery's defaults retried for longer).
PROMPT = 3.0


def _drop_producer_connections() -> None:
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def dead_broker() -> Iterator[str]:
    """This process publishes to Redis on a port where nothing listens, with the broker options
    the settings give a Redis deployment; eager again, and the real pools back, afterwards."""
    url = f"redis://127.0.0.1:{free_port()}/12"
    with mock.patch.dict(os.environ, {"REDIS_URL": url, "DJANGO_DEVELOPMENT": "true"}):
        production = runpy.run_path(str(SETTINGS))
    keys = (
        "broker_url",
        "broker_transport_options",
        "broker_connection_timeout",
        "task_publish_retry_policy",
        "task_always_eager",
    )
    saved = {key: celery_app.conf[key] for key in keys}
    _drop_producer_connections()
    celery_app.conf.update(
        broker_url=url,
        broker_transport_options=production["CELERY_BROKER_TRANSPORT_OPTIONS"],
        broker_connection_timeout=production["CELERY_BROKER_CONNECTION_TIMEOUT"],
        task_publish_retry_policy=production["CELERY_TASK_PUBLISH_RETRY_POLICY"],
        task_always_eager=False,
    )
    try:
        yield url
    finally:
        celery_app.conf.update(saved)
        _drop_producer_connections()


def _timed(send: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    response = send(*args, **kwargs)
    assert time.monotonic() - started < PROMPT
    return response


def _broker_back() -> str:
    """Eager again (the broker answers), and the operator's command run once."""
    celery_app.conf.task_always_eager = True
    out = StringIO()
    call_command("requeue_outbox", stdout=out)
    return out.getvalue()


def test_a_paid_priority_ticket_opens_and_its_email_waits_for_the_broker(
    dead_broker, consultant_client, mailoutbox
):
    contact = ContactFactory(email="ana@harbor.example")
    page = consultant_client.get(reverse("tickets:new")).content.decode()
    submission = page.split('name="submission" value="', 1)[1][:36]
    post = {
        "client": contact.client_id,
        "subject": "Server will not boot",
        "priority": "high",
        "paid_priority": "on",
        "submission": submission,
    }

    opened = _timed(consultant_client.post, reverse("tickets:new"), post)
    again = _timed(consultant_client.post, reverse("tickets:new"), post)

    ticket = Ticket.objects.get()
    assert opened.status_code == again.status_code == 302
    assert opened["Location"] == again["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert Charge.objects.count() == 1
    (row,) = OutboundEmail.objects.all()
    assert (row.kind, row.status, row.attempts) == (
        EmailKind.TICKET_ACKNOWLEDGEMENT,
        EmailStatus.PENDING,
        0,
    )
    assert mailoutbox == []

    assert "1 email" in _broker_back()
    assert [m.to for m in mailoutbox] == [["ana@harbor.example"]]
    assert OutboundEmail.objects.get().status == EmailStatus.SENT


def test_a_reply_is_saved_and_its_email_waits_for_the_broker(
    dead_broker, consultant_client, mailoutbox
):
    contact = ContactFactory(email="ana@harbor.example")
    ticket = Ticket.objects.create(client=contact.client, contact=contact, subject="Printer")

    response = _timed(
        consultant_client.post,
        reverse("tickets:reply", args=[ticket.pk]),
        {"reply-body": "On my way."},
    )

    assert response.status_code == 302
    assert ticket.events.filter(body="On my way.").exists()
    (row,) = OutboundEmail.objects.all()
    assert (row.kind, row.status) == (EmailKind.TICKET_REPLY, EmailStatus.PENDING)

    _broker_back()
    assert [m.to for m in mailoutbox] == [["ana@harbor.example"]]


def test_an_accepted_offer_answers_as_usual_and_both_emails_wait_for_the_broker(
    dead_broker, anon_client, manager, mailoutbox
):
    offer = PendingOfferFactory()
    ConversionOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.SENT)
    accept = reverse("offers:offer_accept", args=[offer_token(offer)])

    response = _timed(anon_client.post, accept, {**SIGNER, "agree": "on"})

    assert response.status_code == 200
    assert "offer_accepted" in [t.name.split("/")[-1][:-5] for t in response.templates]
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.contract is not None
    rows = OutboundEmail.objects.order_by("pk")
    assert [(r.kind, r.status) for r in rows] == [
        (EmailKind.OFFER_ACCEPTED, EmailStatus.PENDING),
        (EmailKind.OFFER_ACCEPTED_MANAGER, EmailStatus.PENDING),
    ]

    _broker_back()
    assert sorted(m.to[0].split("<")[-1].rstrip(">") for m in mailoutbox) == sorted(
        [offer.email, manager.email]
    )


def test_an_offer_sent_now_from_the_admin_waits_for_the_broker(
    dead_broker, manager_client, mailoutbox
):
    campaign_rules()
    PlanFactory()
    client = OfferableClientFactory()

    response = _timed(
        manager_client.post,
        reverse("admin:clients_client_changelist"),
        {"action": "send_offer_now", "_selected_action": [client.pk]},
    )

    assert response.status_code == 302
    offer = ConversionOffer.objects.get()
    assert offer.status == OfferStatus.PENDING
    assert "1 offer" in _broker_back()
    assert len(mailoutbox) == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
