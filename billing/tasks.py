"""Celery tasks for billing: thin wrappers that call a service."""

from __future__ import annotations

import logging

from celery import shared_task

from billing.models import RateCard, RunTrigger
from billing.run import billing_run, periods_due
from billing.services import BillingError

logger = logging.getLogger(__name__)


@shared_task
def billing_run_task() -> list[str]:
    """Bill every month up to last month that has a term not billed yet (monthly, on the 1st);
    return the months billed. A month that fails is logged and left for the next run; the
    months after it are still billed."""
    issue = RateCard.load().issue_after_run
    billed = []
    for period in periods_due():
        try:
            billing_run(period=period, trigger=RunTrigger.SCHEDULE, issue=issue)
        except BillingError as error:
            logger.warning("The billing run for %s did not complete: %s", period, error)
            continue
        billed.append(str(period))
    return billed
