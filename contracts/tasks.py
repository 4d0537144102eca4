"""Celery tasks for contracts: thin wrappers that take ids, call a service, own the retries."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import get_connection
from django.utils import timezone

from contracts import delivery, emails
from contracts.models import CampaignSettings, CampaignTrigger, ConversionOffer
from contracts.offers import campaign_run, offers_due_reminder, offers_expire, queue_offer_emails
from contracts.services import contracts_roll_over

log = logging.getLogger(__name__)

# SoftTimeLimitExceeded: a batch that ran out of time has handed its unsent offers back;
# retrying sends them now rather than when the sweeper next looks.
EMAIL_ERRORS = (SMTPException, OSError, SoftTimeLimitExceeded)


@shared_task
def campaign_run_task() -> int:
    """The scheduled conversion campaign (its schedule is edited in the admin)."""
    run = campaign_run(trigger=CampaignTrigger.SCHEDULE)
    log.info("campaign run %s created %d offers", run.pk, run.offers_created)
    return run.offers_created


@shared_task(
    autoretry_for=EMAIL_ERRORS,
    retry_backoff=5,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=10,
)
def offers_send_task(offer_ids: list[int]) -> int:
    return delivery.offers_send_batch(offer_ids)


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
    for start in range(0, len(ids), 100):
        sent += delivery.offers_send_reminders(ids[start : start + 100])
    return sent


@shared_task
def contracts_roll_over_task() -> list[int]:
    renewed, ended = contracts_roll_over()
    return [renewed, ended]


@shared_task
def offers_expire_task() -> int:
    return offers_expire()


@shared_task(
    autoretry_for=EMAIL_ERRORS,
    retry_backoff=5,
    retry_backoff_max=900,
    retry_jitter=True,
    max_retries=10,
)
def offer_accepted_emails_task(offer_id: int) -> None:
    offer = ConversionOffer.objects.select_related("client", "contact", "plan", "contract").get(
        pk=offer_id
    )
    with get_connection() as connection:
        connection.send_messages(emails.acceptance_messages(offer, offer.contract))
