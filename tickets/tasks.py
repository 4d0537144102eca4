"""Celery tasks for tickets: thin wrappers that take ids, call a service and own the retries."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.utils import timezone

from clients.mail import EMAIL_RETRY
from tickets import emails
from tickets.models import Ticket, TicketEvent
from tickets.sla_risk import sla_risk_notify_due

log = logging.getLogger(__name__)


@shared_task(**EMAIL_RETRY)
def ticket_acknowledge_task(ticket_id: int) -> None:
    ticket = Ticket.objects.select_related("contact").filter(pk=ticket_id).first()
    message = emails.acknowledgement(ticket) if ticket else None
    if message is not None:
        message.send()


@shared_task(**EMAIL_RETRY)
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


# Receivers of tickets.signals (connected in TicketsConfig.ready): queue the emails.
def on_ticket_opened(sender: Any, *, ticket_id: int, **kwargs: Any) -> None:
    ticket_acknowledge_task.delay(ticket_id)


def on_ticket_replied(sender: Any, *, event_id: int, **kwargs: Any) -> None:
    ticket_reply_email_task.delay(event_id)
