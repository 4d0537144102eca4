"""Celery tasks for the outbox (clients/outbox.py): deliver rows, sweep up what was left.

Services never import this module: outbox_add sends clients.signals.outbox_written once its
transaction commits, and the receiver below (connected in ClientsConfig.ready) queues the
delivery, as a first try that may fail without harm (clients.broker).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import shared_task
from django.utils import timezone

from clients.broker import try_to_queue
from clients.outbox import outbox_deliver, outbox_needing_delivery

log = logging.getLogger(__name__)

SEND_BATCH_SIZE = 50


@shared_task
def outbox_send_task(email_ids: list[int]) -> int:
    """Deliver these rows; each outcome is recorded on its row, so there is nothing to retry
    here: a row that must wait is queued again by the sweeper when it is due."""
    delivery = outbox_deliver(email_ids)
    if delivery.retrying or delivery.undeliverable:
        log.warning(
            "outbox: %d sent, %d to retry, %d undeliverable",
            len(delivery.sent),
            len(delivery.retrying),
            len(delivery.undeliverable),
        )
    return len(delivery.sent)


def queue_outbox(email_ids: Sequence[int]) -> int:
    """Queue delivery in batches (one SMTP connection each); return how many were queued."""
    ids = list(email_ids)
    queued = 0
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        batch = ids[start : start + SEND_BATCH_SIZE]
        if try_to_queue(outbox_send_task, batch):
            queued += len(batch)
    return queued


@shared_task
def outbox_sweep_task() -> int:
    """Queue what no worker delivered (every minute, from the schedule in the admin)."""
    ids = outbox_needing_delivery(timezone.now())
    if ids:
        log.info("outbox sweep: queueing %d email(s)", len(ids))
    return queue_outbox(ids)


# Receiver of clients.signals.outbox_written (connected in ClientsConfig.ready).
def on_outbox_written(sender: Any, *, email_ids: list[int], **kwargs: Any) -> None:
    queue_outbox(email_ids)
