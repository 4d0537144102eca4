"""Celery tasks for contracts: thin wrappers that call a service."""

from __future__ import annotations

from celery import shared_task

from contracts.services import contracts_roll_over


@shared_task
def contracts_roll_over_task() -> list[int]:
    """Renew automatic contracts whose term ran out and end the others (daily)."""
    renewed, ended = contracts_roll_over()
    return [renewed, ended]
