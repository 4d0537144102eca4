"""Celery tasks for offers: thin wrappers that take ids, call a service, own the retries.

Services never import this module: they announce what they did (offers.signals) once their
transaction commits, and the receivers at the bottom queue the work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from celery import shared_task
from django.core.mail import get_connection
from django.utils import timezone

from clients.mail import EMAIL_RETRY
from offers import delivery, emails
from offers.models import CampaignSettings, CampaignTrigger, ConversionOffer
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


def queue_offer_emails(offer_ids: Iterable[int]) -> None:
    """Queue send tasks in batches; each batch is sent over one SMTP connection."""
    ids = list(offer_ids)
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        offers_send_task.delay(ids[start : start + SEND_BATCH_SIZE])


@shared_task
def offers_sweep_task() -> int:
    """Re-queue offers whose send task was lost or whose worker died."""
    ids = delivery.offers_needing_delivery(timezone.now())
    queue_offer_emails(ids)
    return len(ids)


@shared_task
def offers_remind_task() -> int:
    ids = offers_due_reminder(now=timezone.now(), rules=CampaignSettings.load())
    sent = 0
    for start in range(0, len(ids), SEND_BATCH_SIZE):
        sent += delivery.offers_send_reminders(ids[start : start + SEND_BATCH_SIZE])
    return sent


@shared_task
def offers_expire_task() -> int:
    return offers_expire()


@shared_task(**EMAIL_RETRY)
def offer_accepted_emails_task(offer_id: int) -> None:
    offer = ConversionOffer.objects.select_related(
        "client", "contact", "plan", "terms", "contract__plan"
    ).get(pk=offer_id)
    with get_connection() as connection:
        connection.send_messages(emails.acceptance_messages(offer))


# Receivers of offers.signals (connected in OffersConfig.ready): queue the emails.
def on_offers_made(sender: Any, *, offer_ids: list[int], **kwargs: Any) -> None:
    queue_offer_emails(offer_ids)


def on_offer_accepted(sender: Any, *, offer_id: int, **kwargs: Any) -> None:
    offer_accepted_emails_task.delay(offer_id)
