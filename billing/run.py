"""The monthly billing run: each contract's fee and overage for a month, posted to the ledger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.models import (
    BillingRun,
    ContractPeriod,
    RunTrigger,
)
from billing.periods import Period, months_between
from billing.pricing import contract_month, included_minutes
from clients.models import Charge, ChargeKind
from clients.money import ZERO, as_hours, for_minutes, money
from contracts.models import ServiceContract

if TYPE_CHECKING:
    from clients.services import Actor

from billing.invoicing import clients_to_invoice, invoices_issue
from billing.services import BillingError, contracts_to_bill, period_refusal, staff

# Contracts billed per transaction: a fixed number of queries each.
BATCH_SIZE = 500


@dataclass
class RunResult:
    """What a run posted (or, dry, would post) for one period."""

    period: Period
    dry_run: bool
    contracts: int = 0
    fees: Decimal = ZERO
    overage: Decimal = ZERO
    overage_minutes: int = 0
    invoices: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.fees + self.overage


def billing_run(
    *,
    period: Period,
    trigger: str = RunTrigger.MANUAL,
    by: Actor = None,
    dry_run: bool = False,
    issue: bool = False,
    now: dt.datetime | None = None,
) -> RunResult:
    """Post each contract's fee and overage for `period` to the ledger; then issue, if asked.

    Idempotent: a contract billed for the period already is skipped, and a concurrent run blocks
    on the contract rows and then skips what the other posted. Each batch is its own
    transaction, so a run that dies keeps what it posted and the next one finishes the rest.
    `now` is when the run happens (the demo bills its past as of then).
    """
    clock = timezone.now()
    now = now or clock
    refusal = period_refusal(period, timezone.localdate(now))
    if refusal:
        raise BillingError(refusal)
    result = RunResult(period=period, dry_run=dry_run)
    run = None
    if not dry_run:
        run = BillingRun.objects.create(
            period=period.first_day, trigger=trigger, triggered_by=staff(by), started_at=now
        )
    after = 0
    while True:
        ids = list(
            contracts_to_bill(period).filter(pk__gt=after).values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            break
        after = ids[-1]
        # A dry run locks and reads the same rows (the locks need a transaction) and writes none.
        with transaction.atomic():
            _bill_batch(ids, period, run=run, result=result)
    if run is not None:
        run.contracts_billed = result.contracts
        run.fees_total = result.fees
        run.overage_total = result.overage
        # A second run with nothing new to invoice is not an error: it issues nothing.
        if issue and clients_to_invoice(period, None):
            result.invoices = invoices_issue(period=period, by=by, now=now)
            run.invoices_issued = result.invoices
        run.finished_at = now + (timezone.now() - clock)
        run.save()
    return result


def _bill_batch(
    ids: list[int], period: Period, *, run: BillingRun | None, result: RunResult
) -> None:
    contracts = list(
        ServiceContract.objects.filter(pk__in=ids)
        .select_related("plan", "client")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    # Read after the lock: a run that billed these contracts meanwhile has committed its rows.
    billed = set(
        ContractPeriod.objects.filter(contract__in=ids, period=period.first_day).values_list(
            "contract_id", flat=True
        )
    )
    work = _month_work(ids, period)
    fees: list[Charge] = []
    overages: list[Charge] = []
    periods: list[ContractPeriod] = []
    starts_at = period.starts_at()
    for contract in contracts:
        days = period.days_within(contract.starts_on, contract.last_day)
        if contract.pk in billed or days <= 0:
            continue
        worked, charged = work.get(contract.pk, (0, 0))
        month = contract_month(
            monthly_price=contract.monthly_price,
            included_hours=contract.plan.included_hours,
            overage_rate=contract.plan.overage_hourly_rate,
            worked_minutes=worked,
            days_covered=days,
            days_in_month=period.days,
        )
        # Minutes already charged one by one (time logged before billing runs existed) are not
        # charged again.
        overage_minutes = max(0, month.overage_minutes - charged)
        overage = for_minutes(contract.plan.overage_hourly_rate, overage_minutes)
        name = f"{contract.plan.name} contract"
        when = period.label if days == period.days else _days_text(period, contract)
        fee = None
        if month.fee > 0:
            fee = Charge(
                client_id=contract.client_id,
                kind=ChargeKind.CONTRACT_FEE,
                amount=month.fee,
                rate=contract.monthly_price,
                description=f"{name}, {when}",
                occurred_at=starts_at,
            )
            fees.append(fee)
        over = None
        if overage > 0:
            over = Charge(
                client_id=contract.client_id,
                kind=ChargeKind.OVERAGE,
                amount=overage,
                rate=contract.plan.overage_hourly_rate,
                hours=as_hours(overage_minutes),
                description=(
                    f"{name} overage, {period.label}: {as_hours(overage_minutes)} h beyond the "
                    f"{as_hours(included_minutes(contract.plan.included_hours, days, period.days))} h included"
                ),
                occurred_at=starts_at,
            )
            overages.append(over)
        result.contracts += 1
        result.fees += fee.amount if fee else ZERO
        result.overage += overage
        result.overage_minutes += overage_minutes
        result.lines.append(
            f"{contract.client.name}: fee {money(month.fee)} ({when})"
            + (f", overage {money(overage)} ({overage_minutes} min)" if overage else "")
        )
        if run is not None:
            periods.append(
                ContractPeriod(
                    contract=contract,
                    period=period.first_day,
                    days_covered=days,
                    included_minutes=included_minutes(
                        contract.plan.included_hours, days, period.days
                    ),
                    overage_minutes=overage_minutes,
                    fee=fee,
                    overage=over,
                    run=run,
                )
            )
    if run is None:
        return
    Charge.objects.bulk_create(fees + overages)
    ContractPeriod.objects.bulk_create(periods)


def _days_text(period: Period, contract: ServiceContract) -> str:
    first = max(contract.starts_on, period.first_day)
    last = min(contract.last_day, period.last_day)
    days = (last - first).days + 1
    return f"{first.day} to {last.day} {period.label}: {days} of {period.days} days"


def _month_work(ids: list[int], period: Period) -> dict[int, tuple[int, int]]:
    """Per contract: minutes worked under it in `period`, and minutes of those already charged.

    Time entries live in tickets, above this app: the query follows the contracts' reverse
    relation `time_entries` by name (a seam, docs/architecture.md).
    """
    in_month = Q(
        time_entries__work_date__gte=period.first_day,
        time_entries__work_date__lte=period.last_day,
    )
    rows = (
        ServiceContract.objects.filter(pk__in=ids)
        .annotate(
            worked=Sum("time_entries__minutes", filter=in_month),
            charged=Sum(
                "time_entries__billable_minutes",
                filter=in_month & Q(time_entries__charge__isnull=False),
            ),
        )
        .values_list("pk", "worked", "charged")
    )
    return {pk: (worked or 0, charged or 0) for pk, worked, charged in rows}


def periods_due(today: dt.date | None = None) -> list[Period]:
    """The periods the scheduled run bills: every month since the last run, up to last month.

    A month the worker missed (it was down on the 1st) is billed by the next run. The first run
    ever bills last month only, not the practice's whole past.
    """
    last = Period.last_closed(today)
    latest = BillingRun.objects.filter(finished_at__isnull=False).order_by("-period").first()
    if latest is None:
        return [last]
    return months_between(Period.of(latest.period).next, last) or []
