"""Celery tasks for tickets: thin wrappers that call a service and own the retries.

The ticket emails (acknowledgement, reply, deadline alert) are outbox rows the services write
in their transactions (clients/outbox.py); clients.tasks delivers them.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from tickets.sla_risk import sla_risk_notify_due

log = logging.getLogger(__name__)


@shared_task
def sla_risk_scan_task() -> int:
    """Alert the assignee (or the managers) about each ticket whose deadline just became at risk."""
    alerted = sla_risk_notify_due(now=timezone.now())
    if alerted:
        log.info("SLA risk alerts written for %d ticket(s)", alerted)
    return alerted
