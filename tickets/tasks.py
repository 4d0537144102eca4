"""Celery tasks for tickets: thin wrappers that take ids, call a service and own the retries."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from tickets import emails
from tickets.models import Ticket, TicketEvent
from tickets.sla_risk import sla_risk_notify_due

log = logging.getLogger(__name__)

# Mail servers fail transiently; retry with exponential backoff (2, 4, 8 ... s, with jitter).
EMAIL_ERRORS = (SMTPException, OSError)


@shared_task(
    autoretry_for=EMAIL_ERRORS,
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def ticket_acknowledge_task(ticket_id: int) -> None:
    ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id).first()
    message = emails.acknowledgement(ticket) if ticket else None
    if message is not None:
        message.send()


@shared_task(
    autoretry_for=EMAIL_ERRORS,
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def ticket_reply_email_task(event_id: int) -> None:
    event = (
        TicketEvent.objects.select_related("ticket__contact", "actor").filter(pk=event_id).first()
    )
    message = emails.reply(event) if event else None
    if message is not None:
        message.send()


@shared_task
def sla_risk_scan_task() -> int:
    """Email the assignee (or the managers) about each ticket whose deadline just became at risk."""
    sent = sla_risk_notify_due(now=timezone.now())
    if sent:
        log.info("SLA risk alerts sent for %d ticket(s)", sent)
    return sent
