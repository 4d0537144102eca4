"""A campaign run delivered by live Celery workers over Redis to a real SMTP server: every
eligible client gets exactly one offer, also when a worker is killed halfway through a batch."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from offers.delivery import stale_claim_age
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run
from offers.tasks import SEND_BATCH_SIZE, offers_sweep_task
from tests.integration.faults import create_eligible_clients
from tests.integration.servers import (
    VISIBILITY_TIMEOUT,
    Broker,
    LiveWorker,
    wait_for,
    worker_database_sessions,
)
from tests.smtp import Inbox

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

CLIENTS = 3 * SEND_BATCH_SIZE  # three batches: two run at once on a worker of concurrency 2


def sending_offer_ids() -> set[int]:
    return set(
        ConversionOffer.objects.filter(status=OfferStatus.SENDING).values_list("pk", flat=True)
    )


def offer_statuses() -> Counter[str]:
    return Counter(ConversionOffer.objects.values_list("status", flat=True))


def all_sent(count: int, broker: Broker) -> Callable[[], bool]:
    # An offer is recorded SENT just before its final "." goes out, so the inbox is final once
    # every offer is SENT and no batch is still in flight (all acknowledged): nothing can send
    # again after that (only pending and stale claims are taken).
    return lambda: (
        offer_statuses() == {OfferStatus.SENT: count}
        and broker.unacknowledged() == broker.waiting() == 0
    )


def assert_one_offer_per_client(inbox: Inbox, clients: dict[str, int]) -> None:
    per_address = Counter(address for d in inbox.deliveries for address in d.recipients)
    duplicated = {address: n for address, n in per_address.items() if n > 1}
    lost = sorted(set(clients) - set(per_address))
    strangers = sorted(set(per_address) - set(clients))
    assert (len(duplicated), len(lost), len(strangers)) == (0, 0, 0), (
        f"{len(duplicated)} clients got more than one offer {sorted(duplicated.items())[:5]}, "
        f"{len(lost)} got none {lost[:5]}, {len(strangers)} unknown addresses {strangers[:5]}"
    )
    # Each client got the message of its own offer (the Message-ID names the offer).
    offer_ids = dict(ConversionOffer.objects.values_list("client_id", "pk"))
    domain = settings.EMAIL_MESSAGE_DOMAIN
    assert {d.recipients: d.message["Message-ID"] for d in inbox.deliveries} == {
        (address,): f"<offer-{offer_ids[client_id]}-offer@{domain}>"
        for address, client_id in clients.items()
    }
    assert offer_statuses() == {OfferStatus.SENT: len(clients)}


def test_campaign_sends_one_offer_to_every_eligible_client_through_live_workers(
    inbox: Inbox, start_worker: Callable[..., LiveWorker], broker: Broker
) -> None:
    clients = create_eligible_clients(CLIENTS)
    worker = start_worker()

    run = campaign_run()
    assert run.offers_created == CLIENTS

    wait_for(all_sent(CLIENTS, broker), timeout=60, what="every offer sent", workers=(worker,))
    assert_one_offer_per_client(inbox, clients)
    assert ConversionOffer.objects.aggregate(Max("send_attempts")) == {"send_attempts__max": 1}
    wait_for(lambda: broker.unacknowledged() == 0, timeout=10, what="every batch acknowledged")
    assert broker.waiting() == 0
    connection.close()


def sleep_until(moment: float, *, longest: float) -> None:
    """Wait for a moment on the monotonic clock the live workers' timeouts are measured by."""
    pause = moment - time.monotonic()
    assert pause <= longest, f"asked to wait {pause:.0f} s, more than the {longest:.0f} s allowed"
    time.sleep(max(pause, 0))


def test_killed_worker_mid_batch_still_sends_every_client_exactly_one_offer(
    inbox: Inbox, start_worker: Callable[..., LiveWorker], broker: Broker
) -> None:
    clients = create_eligible_clients(CLIENTS)
    inbox.stall_after(CLIENTS // 2)
    first = start_worker()
    campaign_run()

    wait_for(
        inbox.stalled.is_set,
        timeout=60,
        what="half the offers sent and the worker waiting on the mail server",
        workers=(first,),
        interval=0.01,
    )
    first.kill()
    inbox.release()
    killed_at = time.monotonic()
    # What the dead worker left is settled once its database sessions are gone: a statement it
    # had sent still runs to its end (or rolls back) after the kill.
    wait_for(lambda: worker_database_sessions() == 0, timeout=10, what="the dead worker's sessions")
    held = sending_offer_ids()
    # The kill must land mid-batch, or this test would prove nothing: offers claimed by the dead
    # worker and not sent, and its batches unacknowledged in Redis.
    assert len(inbox) < CLIENTS
    assert held
    assert broker.unacknowledged() > 0

    # kombu gives a dead consumer's messages back when a worker starts (and then only every
    # ~100 s): start the replacement once they are past the visibility timeout, as a restarted
    # worker eventually would, so it gets the dead worker's batches again.
    sleep_until(killed_at + VISIBILITY_TIMEOUT + 1, longest=VISIBILITY_TIMEOUT + 1)
    second = start_worker()
    # It sends the batch still queued, and the redelivered batches leave the dead worker's claims
    # alone: they are younger than a task may run, so as far as a batch can tell their worker is
    # still sending them.
    wait_for(
        lambda: (
            broker.unacknowledged() == broker.waiting() == 0
            and offer_statuses()[OfferStatus.PENDING] == 0
            and sending_offer_ids() == held
        ),
        timeout=30,
        what="the replacement sent all but the dead worker's claims",
        workers=(second,),
    )

    # Once those claims are stale, the sweeper (every 10 minutes in production) sends them.
    claimed = ConversionOffer.objects.filter(pk__in=held).aggregate(Max("claimed_at"))
    stale_in = claimed["claimed_at__max"] + stale_claim_age() - timezone.now()
    sleep_until(
        time.monotonic() + stale_in.total_seconds() + 1,
        longest=stale_claim_age().total_seconds() + 1,
    )
    offers_sweep_task.delay()

    wait_for(all_sent(CLIENTS, broker), timeout=30, what="every offer sent", workers=(second,))
    assert_one_offer_per_client(inbox, clients)
    wait_for(lambda: broker.unacknowledged() == 0, timeout=10, what="every batch acknowledged")
    assert broker.waiting() == 0
    connection.close()
