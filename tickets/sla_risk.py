"""Finding tickets whose deadline is at risk, and alerting people about each one once."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q, QuerySet

from clients.models import EmailKind
from clients.outbox import outbox_add
from contracts.staff import manager_emails
from tickets import emails
from tickets.models import QueueTier, Ticket, TicketEvent, TicketEventKind


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
    """Write one alert per newly at-risk ticket; return how many tickets were alerted about.

    Each ticket is claimed (sla_risk_notified_at, a guarded UPDATE) in the same transaction as
    its activity line and its outbox rows, one per recipient: of two scans at once only one
    writes, a worker killed before the commit leaves the ticket for the next scan, and one
    killed after it leaves rows the outbox delivers once. The scan sends nothing itself.
    """
    alerted = 0
    managers: list[str] | None = None
    for ticket in tickets_newly_at_risk(now)[:500]:
        if ticket.assignee and ticket.assignee.email:
            recipients = [ticket.assignee.email]
        else:
            managers = manager_emails() if managers is None else managers
            recipients = managers
        overdue = ticket.is_breached(now)
        with transaction.atomic():
            claimed = Ticket.objects.filter(pk=ticket.pk, sla_risk_notified_at__isnull=True).update(
                sla_risk_notified_at=now
            )
            if not claimed:
                continue
            TicketEvent.objects.create(
                ticket=ticket,
                kind=TicketEventKind.SLA_RISK,
                body=f"{emails.risk_headline(overdue)}; alerted "
                f"{', '.join(recipients) or 'nobody (no email on file)'}.",
                created_at=now,
            )
            if recipients:
                # The deadline is part of the key: a new deadline (the resolution one after
                # the first reply, one moved by a pause) is a new alert.
                due = ticket.queue_due_at.isoformat() if ticket.queue_due_at else "none"
                outbox_add(
                    emails.deadline_at_risk(ticket, recipients, overdue=overdue),
                    kind=EmailKind.TICKET_AT_RISK,
                    key=f"ticket-at-risk:{ticket.pk}:{due}",
                    client=ticket.client,
                    now=now,
                )
        alerted += 1
    return alerted
