"""Fault: a worker SIGKILLed in the middle of two batches at once, an outbox batch and an offer
batch, on Redis and on the embedded filesystem transport (which deletes a message when a worker
takes it, so the dead worker's batches are gone from the broker). A second worker sends what was
still queued; once the dead worker's claims are stale, the sweepers queue them again. Every
email reaches the mail server exactly once.
"""

from __future__ import annotations

import pytest
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Max

from clients.models import Client, EmailKind, EmailStatus, OutboundEmail
from clients.outbox import outbox_add
from clients.tasks import outbox_sweep_task
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run, offer_send_now
from offers.tasks import offers_sweep_task
from tests.integration.faults import (
    FaultBroker,
    assert_each_email_once,
    create_eligible_clients,
    offer_statuses,
    outbox_statuses,
    wait_until_stale,
)
from tests.integration.servers import LiveWorkers, wait_for, worker_database_sessions
from tests.smtp import Inbox

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

OFFER_BATCH = 100  # offers.tasks.SEND_BATCH_SIZE: the campaign's clients make one batch
FIRST_EMAILS, LATER_EMAILS = 50, 30  # a batch of the outbox each (clients.tasks.SEND_BATCH_SIZE)
TAKEN_BEFORE_THE_KILL = 10  # per connection: each batch is held at its eleventh message


def write_notices(name: str, count: int) -> None:
    """One notice to `count` recipients: a row each, in one transaction, queued on commit as
    one batch (as the managers' notices and digests are)."""
    notice = EmailMultiAlternatives(
        subject=f"Planned maintenance ({name})",
        body="The office network is down for maintenance on Saturday from 8 to 10.",
        from_email="Service Desk <service@example.com>",
        to=[f"{name}-{n}@client.example" for n in range(count)],
    )
    with transaction.atomic():
        outbox_add(notice, kind=EmailKind.RENEWAL_NOTICE, key=f"maintenance:{name}")


@pytest.mark.parametrize("transport", ["private_broker", "embedded_broker"])
def test_a_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(
    transport: str, request: pytest.FixtureRequest, inbox: Inbox
) -> None:
    broker: FaultBroker = request.getfixturevalue(transport)
    # Asked for after the broker, so its workers are stopped before the broker is.
    fault_workers: LiveWorkers = request.getfixturevalue("fault_workers")
    create_eligible_clients(OFFER_BATCH)
    # Queued in this order (each publish a moment after the last: the filesystem transport
    # orders its messages by the millisecond they were written): two batches for the first
    # worker's two processes, then two it never takes.
    write_notices("first", FIRST_EMAILS)
    assert campaign_run().offers_created == OFFER_BATCH
    (late_client,) = create_eligible_clients(1, plan=False).values()
    offer_send_now(client=Client.objects.get(pk=late_client))
    write_notices("later", LATER_EMAILS)
    connection.close()
    inbox.stall_each_after(TAKEN_BEFORE_THE_KILL)
    first = fault_workers.start(broker.env, concurrency=2)

    wait_for(
        lambda: inbox.waiting == 2,
        timeout=60,
        what="both batches held by the mail server after ten messages each",
        workers=(first,),
        interval=0.02,
    )
    first.kill()
    wait_for(lambda: worker_database_sessions() == 0, timeout=10, what="the dead worker's sessions")
    inbox.release()

    # It died holding the rest of both batches; the two batches after them wait in the broker.
    assert len(inbox) == 2 * TAKEN_BEFORE_THE_KILL
    assert outbox_statuses() == {
        EmailStatus.SENT: TAKEN_BEFORE_THE_KILL,
        EmailStatus.SENDING: FIRST_EMAILS - TAKEN_BEFORE_THE_KILL,
        EmailStatus.PENDING: LATER_EMAILS,
    }
    assert offer_statuses() == {
        OfferStatus.SENT: TAKEN_BEFORE_THE_KILL,
        OfferStatus.SENDING: OFFER_BATCH - TAKEN_BEFORE_THE_KILL,
        OfferStatus.PENDING: 1,
    }
    held_emails = set(
        OutboundEmail.objects.filter(status=EmailStatus.SENDING).values_list("pk", flat=True)
    )
    held_offers = set(
        ConversionOffer.objects.filter(status=OfferStatus.SENDING).values_list("pk", flat=True)
    )

    second = fault_workers.start(broker.env, concurrency=2)
    # It sends the two batches still queued; the dead worker's claims are younger than any task
    # may run, so as far as anyone can tell their worker is still sending them.
    wait_for(
        lambda: (
            outbox_statuses()[EmailStatus.SENT] == TAKEN_BEFORE_THE_KILL + LATER_EMAILS
            and offer_statuses()[OfferStatus.SENT] == TAKEN_BEFORE_THE_KILL + 1
        ),
        timeout=60,
        what="the second worker sent the batches still queued",
        workers=(second,),
    )
    assert outbox_statuses()[EmailStatus.SENDING] == FIRST_EMAILS - TAKEN_BEFORE_THE_KILL
    assert offer_statuses()[OfferStatus.SENDING] == OFFER_BATCH - TAKEN_BEFORE_THE_KILL

    # Once those claims are stale, the sweepers (the beat's tasks) queue them again.
    last_claims = [
        model.objects.aggregate(last=Max("claimed_at"))["last"]
        for model in (OutboundEmail, ConversionOffer)
    ]
    wait_until_stale(max(last_claims))
    outbox_sweep_task.delay()
    offers_sweep_task.delay()

    wait_for(
        lambda: (
            outbox_statuses() == {EmailStatus.SENT: FIRST_EMAILS + LATER_EMAILS}
            and offer_statuses() == {OfferStatus.SENT: OFFER_BATCH + 1}
        ),
        timeout=60,
        what="every email sent once the dead worker's claims were stale",
        workers=(second,),
    )
    assert_each_email_once(
        inbox, emails=OutboundEmail.objects.all(), offers=ConversionOffer.objects.all()
    )
    assert len(inbox) == FIRST_EMAILS + LATER_EMAILS + OFFER_BATCH + 1
    # Claimed twice: what the dead worker held; once: everything else.
    assert dict(OutboundEmail.objects.values_list("pk", "attempts")) == {
        pk: 2 if pk in held_emails else 1
        for pk in OutboundEmail.objects.values_list("pk", flat=True)
    }
    assert dict(ConversionOffer.objects.values_list("pk", "send_attempts")) == {
        pk: 2 if pk in held_offers else 1
        for pk in ConversionOffer.objects.values_list("pk", flat=True)
    }
