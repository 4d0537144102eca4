"""The monthly billing run: each contract's fee and overage for a month, posted to the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing.invoicing import clients_to_invoice, invoices_issue
from billing.models import (
    BillingRun,
    ContractPeriod,
    RunTrigger,
)
from billing.periods import Period, day_start, months_between
from billing.services import (
    BillingError,
    acting_staff,
    contracts_to_bill,
    first_billed_month,
    period_refusal,
    term_month,
)
from clients.models import Charge, ChargeKind
from clients.money import ZERO, as_hours, money
from contracts.models import ServiceContract

if TYPE_CHECKING:
    from clients.services import Actor

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
    nothing_covers: bool = False  # no contract term covers a day of the month

    @property
    def summary(self) -> str:
        """What happened, in a sentence, when nothing was posted."""
        if self.nothing_covers:
            return f"No contract covers {self.period.label}: there is nothing to post."
        return f"Nothing new to post for {self.period.label}: every contract that covers it is billed already."

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
    A run that posts nothing leaves no trace. `now` is when the run happens (the demo bills
    its past as of then).
    """
    clock = timezone.now()
    now = now or clock
    refusal = period_refusal(period, timezone.localdate(now))
    if refusal:
        raise BillingError(refusal)
    result = RunResult(period=period, dry_run=dry_run)
    run: BillingRun | None = None

    def the_run() -> BillingRun:
        # Made with the first batch that posts something, in that batch's transaction.
        nonlocal run
        if run is None:
            run = BillingRun.objects.create(
                period=period.first_day,
                trigger=trigger,
                triggered_by=acting_staff(by),
                started_at=now,
            )
        return run

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
            _bill_batch(ids, period, the_run=None if dry_run else the_run, result=result)
    if not result.contracts:  # say why nothing was posted
        covering = ServiceContract.objects.covering(period.first_day, period.last_day)
        result.nothing_covers = not covering.exists()
    # A second run with nothing new to invoice is not an error: it issues nothing.
    if issue and not dry_run and clients_to_invoice(period, None):
        result.invoices = invoices_issue(period=period, by=by, now=now)
        the_run()
    if run is not None:
        run.contracts_billed = result.contracts
        run.fees_total = result.fees
        run.overage_total = result.overage
        run.invoices_issued = result.invoices
        run.finished_at = now + (timezone.now() - clock)
        run.save()
    return result


def _bill_batch(
    ids: list[int],
    period: Period,
    *,
    the_run: Callable[[], BillingRun] | None,
    result: RunResult,
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
    for contract in contracts:
        days = period.days_within(contract.starts_on, contract.last_day)
        if contract.pk in billed or days <= 0:
            continue
        worked, charged = work.get(contract.pk, (0, 0))
        plan = contract.plan
        month = term_month(contract, period, worked_minutes=worked, charged_minutes=charged)
        # Dated the first day the term covers in the month (the 1st for a whole month).
        first_day = day_start(max(contract.starts_on, period.first_day))
        name = f"{plan.name} contract"
        when = period.label if days == period.days else _days_text(period, contract, days)
        fee = over = None
        if month.fee > 0:
            fee = Charge(
                client_id=contract.client_id,
                kind=ChargeKind.CONTRACT_FEE,
                amount=month.fee,
                rate=contract.monthly_price,
                description=f"{name}, {when}",
                occurred_at=first_day,
            )
            fees.append(fee)
        if month.overage > 0:
            hours = as_hours(month.overage_minutes)
            over = Charge(
                client_id=contract.client_id,
                kind=ChargeKind.OVERAGE,
                amount=month.overage,
                rate=plan.overage_hourly_rate,
                hours=hours,
                description=f"{name} overage, {period.label}: {hours} h beyond the "
                f"{as_hours(month.included_minutes)} h included",
                occurred_at=first_day,
            )
            overages.append(over)
        result.contracts += 1
        result.fees += month.fee
        result.overage += month.overage
        result.overage_minutes += month.overage_minutes
        result.lines.append(
            f"{contract.client.name}: fee {money(month.fee)} ({when})"
            + (f", overage {money(month.overage)} ({month.overage_minutes} min)" if over else "")
        )
        periods.append(
            ContractPeriod(
                contract=contract,
                period=period.first_day,
                days_covered=days,
                included_minutes=month.included_minutes,
                overage_minutes=month.overage_minutes,
                fee=fee,
                overage=over,
            )
        )
    if the_run is None or not periods:
        return
    run = the_run()
    for billed_period in periods:
        billed_period.run = run
    Charge.objects.bulk_create(fees + overages)
    ContractPeriod.objects.bulk_create(periods)


def _days_text(period: Period, contract: ServiceContract, days: int) -> str:
    first = max(contract.starts_on, period.first_day)
    last = min(contract.last_day, period.last_day)
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
    """The months the scheduled run bills: each month up to last month with a term not billed.

    From the rate card's "Bill from" month, or else the first month a run ever billed (last
    month, before any run): a month the worker missed, or a term backdated into a billed
    month, is billed by the next run.
    """
    last = Period.last_closed(today)
    first = first_billed_month()
    if first is None:
        earliest = BillingRun.objects.order_by("period").values_list("period", flat=True).first()
        first = last if earliest is None else Period.of(earliest)
    return [period for period in months_between(first, last) if contracts_to_bill(period).exists()]
