"""Celery tasks for contracts: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from contracts.models import RenewalSettings
from contracts.renewals import renewal_notices_due, renewal_notices_send
from contracts.services import contracts_roll_over

NOTICE_BATCH = 100


@shared_task
def contracts_roll_over_task() -> list[int]:
    """Renew automatic contracts whose term ran out and end the others (daily)."""
    renewed, ended = contracts_roll_over()
    return [renewed, ended]


@shared_task
def renewal_notices_task() -> int:
    """Tell clients on automatic renewal the price of their next term (daily)."""
    ids = renewal_notices_due(today=timezone.localdate(), settings_row=RenewalSettings.load())
    return sum(
        renewal_notices_send(ids[start : start + NOTICE_BATCH])
        for start in range(0, len(ids), NOTICE_BATCH)
    )
