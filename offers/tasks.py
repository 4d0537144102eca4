"""Celery tasks for offers: thin wrappers that take ids, call a service, own the retries.

Services never import this module: they announce what they did (offers.signals) once their
transaction commits, and the receivers at the bottom queue the work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.utils import timezone

from clients.broker import try_to_queue
from clients.mail import EMAIL_RETRY
from offers import delivery
from offers.mailings import offers_remind
from offers.models import CampaignSettings, CampaignTrigger
from offers.moments import moment_offers
from offers.services import campaign_run, offers_due_reminder, offers_expire

log = logging.getLogger(__name__)

SEND_BATCH_SIZE = 100


@shared_task
def campaign_run_task() -> int:
    """The scheduled conversion campaign (its schedule is edited in the admin)."""
    run = campaign_run(trigger=CampaignTrigger.SCHEDULE)
    log.info("campaign run %s created %d offers", run.pk, run.offers_created)
    return run.offers_created


@shared_task
def moment_offers_task() -> int:
    """Offer a contract to clients who just showed their need (scheduled every 15 minutes)."""
    made = moment_offers()
    if made:
        log.info("moment-of-need scan made %d offers", len(made))
    return len(made)


@shared_task(**EMAIL_RETRY)
def offers_send_task(offer_ids: list[int]) -> int:
    return delivery.offers_send_batch(offer_ids)


def queue_offer_emails(offer_ids: Iterable[int]) -> int:
    """Queue send tasks in batches; each batch is sent over one SMTP connection. A batch the
    broker would not take waits for the sweeper (offers_sweep_task, or requeue_outbox).
    Returns how many offers were queued."""
    ids = list(offer_ids)
    queued = 0
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        batch = ids[start : start + SEND_BATCH_SIZE]
        if try_to_queue(offers_send_task, batch):
            queued += len(batch)
    return queued


@shared_task
def offers_sweep_task() -> int:
    """Re-queue offers whose send task was lost or whose worker died."""
    ids = delivery.offers_needing_delivery(timezone.now())
    queue_offer_emails(ids)
    return len(ids)


@shared_task
def offers_remind_task() -> int:
    """Write the day's reminders to the outbox, a batch per transaction; return how many."""
    ids = offers_due_reminder(now=timezone.now(), rules=CampaignSettings.load())
    return sum(
        offers_remind(ids[start : start + SEND_BATCH_SIZE])
        for start in range(0, len(ids), SEND_BATCH_SIZE)
    )


@shared_task
def offers_expire_task() -> int:
    return offers_expire()


# Receivers of offers.signals (connected in OffersConfig.ready): queue the emails.
def on_offers_made(sender: Any, *, offer_ids: list[int], **kwargs: Any) -> None:
    queue_offer_emails(offer_ids)
