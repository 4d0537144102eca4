"""Finding tickets whose deadline is at risk, and alerting people about each one once."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import Q, QuerySet

from contracts.staff import manager_emails
from tickets import emails
from tickets.models import QueueTier, Ticket, TicketEvent, TicketEventKind

log = logging.getLogger(__name__)


def past_risk(now: dt.datetime) -> Q:
    """Running contract tickets whose current deadline (the response until it is sent, then the
    resolution) is within 25% of its target, or past it: Ticket.is_at_risk in SQL."""
    return Q(queue_tier=QueueTier.CONTRACT, sla_paused_at__isnull=True) & (
        Q(first_response_at__isnull=True, response_risk_at__lte=now)
        | Q(first_response_at__isnull=False, resolution_risk_at__lte=now)
    )


def tickets_newly_at_risk(now: dt.datetime) -> QuerySet[Ticket]:
    """Open, running contract tickets past their risk moment that nobody was told about yet."""
    return (
        Ticket.objects.actionable()
        .filter(past_risk(now), sla_risk_notified_at__isnull=True)
        .select_related("client", "assignee")
        .order_by("queue_due_at")
    )


def sla_risk_notify_due(*, now: dt.datetime) -> int:
    """Send one alert per newly at-risk ticket; return how many were sent."""
    sent = 0
    managers: list[str] | None = None
    for ticket in tickets_newly_at_risk(now)[:500]:
        # Claim first: of two scans running at once only one sends. If sending fails the claim
        # is released so that the next scan tries again.
        claimed = Ticket.objects.filter(pk=ticket.pk, sla_risk_notified_at__isnull=True).update(
            sla_risk_notified_at=now
        )
        if not claimed:
            continue
        if ticket.assignee and ticket.assignee.email:
            recipients = [ticket.assignee.email]
        else:
            managers = manager_emails() if managers is None else managers
            recipients = managers
        overdue = ticket.is_breached(now)
        try:
            if recipients:
                emails.deadline_at_risk(ticket, recipients, overdue=overdue).send()
        except Exception:
            Ticket.objects.filter(pk=ticket.pk).update(sla_risk_notified_at=None)
            log.exception("could not send the SLA risk alert for ticket %s", ticket.pk)
            continue
        with transaction.atomic():
            TicketEvent.objects.create(
                ticket=ticket,
                kind=TicketEventKind.SLA_RISK,
                body=f"{emails.risk_headline(overdue)}; alerted "
                f"{', '.join(recipients) or 'nobody (no email on file)'}.",
                created_at=now,
            )
        sent += 1
    return sent
