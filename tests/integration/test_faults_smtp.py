"""Fault: the mail server refuses for now (4xx, at RCPT or after the final "."), then hangs up in
the middle of messages, then takes them. Every email, outbox rows and offers, reaches it exactly
once, through the retry paths production uses: the outbox's backoff and sweeper, and the offer
send task's own retries.

Each recipient meets the same faults in the same order (tests/smtp.py's `script`: a refusal,
then a dropped connection, then the server takes it), so the tries each email needed are exact
however the retries of different emails interleave.
"""

from __future__ import annotations

import pytest
from django.db import connection

from clients.models import Client, EmailStatus, OutboundEmail
from clients.outbox import FIRST_RETRY
from clients.tasks import outbox_sweep_task
from offers.models import ConversionOffer, OfferStatus
from offers.services import offer_send_now
from tests.factories import ClientFactory, ContactFactory
from tests.integration.faults import (
    FaultBroker,
    advance_outbox_clock,
    assert_each_email_once,
    create_eligible_clients,
    offer_statuses,
    outbox_statuses,
)
from tests.integration.servers import LiveWorker, LiveWorkers, wait_for
from tests.smtp import Inbox
from tickets.services import ticket_open

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# What the server says the first time, to each of the ticket contacts and to the offers.
REFUSALS = [
    "450 4.2.1 Mailbox busy, try again later",
    "data:451 4.3.0 Queue full, try again later",
    "452 4.2.2 Over quota for now",
]
# The outbox's deliveries after the refusals: one hang-up per batch (the rows after it wait a
# minute untried), so three rows need five sweeps; a few more would mean something went round.
MOST_SWEEPS = 8


def outbox_rows() -> list[tuple[str, str, int]]:
    return list(OutboundEmail.objects.order_by("pk").values_list("to", "status", "attempts"))


def received(inbox: Inbox, kind: str) -> int:
    """Messages the server took of one kind ("outbox", "offer"), by their Message-ID."""
    return sum(d.message["Message-ID"].startswith(f"<{kind}-") for d in inbox.deliveries)


def one_delivery_run(worker: LiveWorker, inbox: Inbox) -> None:
    """Sweep (the beat's task, every minute in production) and wait for the delivery it queued
    to finish: some row changed, none is held by a worker, and the rows recorded sent are the
    ones the server has (a row is "sent" for a moment before a hang-up takes it back)."""
    rows = OutboundEmail.objects.order_by("pk")
    before = list(rows.values_list("status", "next_attempt_at"))
    outbox_sweep_task.delay()
    wait_for(
        lambda: (
            outbox_statuses()[EmailStatus.SENDING] == 0
            and outbox_statuses()[EmailStatus.SENT] == received(inbox, "outbox")
            and list(rows.values_list("status", "next_attempt_at")) != before
        ),
        timeout=20,
        what="the delivery a sweep queued",
        workers=(worker,),
    )


def test_every_email_arrives_once_through_refusals_and_dropped_connections(
    private_broker: FaultBroker,
    fault_workers: LiveWorkers,
    inbox: Inbox,
) -> None:
    contacts = [ContactFactory(client=ClientFactory()) for _ in REFUSALS]
    offered = create_eligible_clients(2)
    for address, refusal in zip(
        [c.email for c in contacts] + list(offered), REFUSALS * 2, strict=False
    ):
        inbox.script[address] = [refusal, "drop-mid"]
    worker = fault_workers.start(private_broker.env, pool="solo", concurrency=1)
    connection.close()  # the worker's first tries read what the commits below wrote

    for contact in contacts:
        ticket_open(client=contact.client, subject=f"Help for {contact.client.name}")
    for client_id in offered.values():
        offer_send_now(client=Client.objects.get(pk=client_id))  # a task each

    # For now, no: each row waits a minute with the server's answer; the offers retry by
    # themselves (the send task's backoff, 5 s and then 10 s at most).
    wait_for(
        lambda: (
            [(status, attempts) for _to, status, attempts in outbox_rows()]
            == [(EmailStatus.PENDING, 1)] * 3
        ),
        timeout=30,
        what="the three acknowledgements refused for now",
        workers=(worker,),
    )
    errors = list(OutboundEmail.objects.order_by("pk").values_list("last_error", flat=True))
    assert errors == [
        f"SMTPRecipientsRefused: {{'{contacts[0].email}': (450, b'4.2.1 Mailbox busy, try again"
        " later')}",
        "SMTPDataError: (451, b'4.3.0 Queue full, try again later')",
        f"SMTPRecipientsRefused: {{'{contacts[2].email}': (452, b'4.2.2 Over quota for now')}}",
    ]

    # Then the server hangs up mid-message, once for each; the outbox's rows come due as the
    # minutes pass (moved on in the database: the backoff is a constant, not a setting).
    for sweep in range(1, MOST_SWEEPS + 1):  # noqa: B007 (counted after the loop)
        if outbox_statuses() == {EmailStatus.SENT: 3}:
            break
        advance_outbox_clock(FIRST_RETRY)
        one_delivery_run(worker, inbox)
    else:
        pytest.fail(f"the outbox was not delivered in {MOST_SWEEPS} sweeps: {outbox_rows()}")
    assert sweep == 6, f"{sweep - 1} sweeps delivered the outbox, not 5"
    wait_for(
        lambda: offer_statuses() == {OfferStatus.SENT: 2} and received(inbox, "offer") == 2,
        timeout=40,
        what="both offers sent through their task's retries",
        workers=(worker,),
    )

    # Each email was refused once, cut off once and taken once; each try counted, none twice.
    assert all(steps == [] for steps in inbox.script.values()), inbox.script
    assert inbox.dropped == 5
    assert [(status, attempts) for _to, status, attempts in outbox_rows()] == [
        (EmailStatus.SENT, 3)
    ] * 3
    assert list(ConversionOffer.objects.values_list("send_attempts", flat=True)) == [3, 3]
    assert_each_email_once(
        inbox, emails=OutboundEmail.objects.all(), offers=ConversionOffer.objects.all()
    )
    assert len(inbox) == 5
