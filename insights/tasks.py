"""Celery tasks for the insights: thin wrappers that call a function of the app."""

from __future__ import annotations

from celery import shared_task

from insights.renewals import renewals_digest_send


@shared_task
def renewals_weekly_task() -> int:
    """Email the managers the contracts ending in the next 60 days (Monday mornings)."""
    return renewals_digest_send()
