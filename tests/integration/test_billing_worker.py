"""The real thing: the scheduled billing run, sent over Redis and run by a live Celery worker,
posts last month's fee against the test database once, however often it is delivered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import BillingRun, ContractPeriod
from billing.periods import Period
from billing.tasks import billing_run_task
from clients.models import Charge, ChargeKind
from tests.factories import ContractFactory, PlanFactory
from tests.integration.servers import LiveWorker, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_the_scheduled_run_bills_last_month_through_a_live_worker(
    start_worker: Callable[..., LiveWorker],
) -> None:
    last = Period.last_closed()
    plan = PlanFactory(monthly_price=Decimal("450.00"))
    ContractFactory(plan=plan, starts_on=last.first_day - dt.timedelta(days=40))
    worker = start_worker(pool="solo", concurrency=1)

    billing_run_task.delay()
    billing_run_task.delay()  # delivered twice: the second run finds the month billed
    connection.close()

    wait_for(
        lambda: worker.output().count("succeeded") == 2,
        timeout=60,
        what="both deliveries of the billing run",
        workers=(worker,),
    )
    # The first billed the month; the second found it billed and billed nothing.
    assert "succeeded in" in worker.output()
    assert f"['{last}']" in worker.output()
    assert ": []" in worker.output()
    assert BillingRun.objects.filter(finished_at__isnull=False).count() == 1
    fee = Charge.objects.get(kind=ChargeKind.CONTRACT_FEE)
    assert fee.amount == Decimal("450.00")
    assert fee.occurred_at == last.starts_at()
    assert ContractPeriod.objects.get().period == last.first_day
    assert timezone.localdate(BillingRun.objects.get().started_at) >= last.last_day
