"""Celery tasks for billing: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from billing.models import RateCard, RunTrigger
from billing.run import billing_run, periods_due


@shared_task
def billing_run_task() -> list[str]:
    """Bill every month that ended since the last run (monthly, on the 1st); return them."""
    issue = RateCard.load().issue_after_run
    billed = []
    for period in periods_due():
        billing_run(period=period, trigger=RunTrigger.SCHEDULE, issue=issue)
        billed.append(str(period))
    return billed
