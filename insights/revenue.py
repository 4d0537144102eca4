"""Recurring revenue and its predictability: the first two sections of the dashboard.

Each figure is a conditional SQL aggregate, one FILTER per month of the window, so a section
reads with the same few queries whatever the number of contracts and charges:
- the ledger: one query (contract fees and everything billed, per month);
- the contracts: one query (committed MRR at each month's end, and the movements between);
- the target: one query (InsightsSettings.current(), predictability only).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import TruncDate
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingRun
from billing.periods import Period, day_start
from clients.figures import Cell, Chart, Link, Money, Percent, Section, Series, Table
from clients.models import Charge, ChargeKind
from clients.money import HUNDRED, ZERO, cents
from contracts.models import ContractStatus, ServiceContract
from insights.models import InsightsSettings
from insights.window import Window

DAY = dt.timedelta(days=1)
TENTH = Decimal("0.1")


@dataclass(frozen=True)
class Month:
    """A month of the window, and the day its committed figures are read on."""

    period: Period
    as_of: dt.date  # the month's last day, or today for the month in progress

    @property
    def in_progress(self) -> bool:
        return self.as_of < self.period.last_day

    @property
    def label(self) -> str:
        return f"{self.period.label} (to date)" if self.in_progress else self.period.label


def months_of(window: Window, now: dt.datetime) -> list[Month]:
    today = timezone.localdate(now)
    return [Month(p, min(p.last_day, today)) for p in window.periods]


# --- The ledger -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerMonth:
    fees: Decimal  # contract fees: booked MRR
    billed: Decimal  # every kind of charge: what billing put on the ledger
    # Billing has run for the month (or fees were posted for it). Until then the month holds
    # labour and the like but no fees: its share of recurring revenue is not known yet.
    closed: bool = True

    @property
    def recurring_share(self) -> Decimal | None:
        """Contract fees as a percentage of everything billed (None: nothing billed, or the
        month not billed yet)."""
        if not self.billed or not self.closed:
            return None
        return (self.fees * HUNDRED / self.billed).quantize(TENTH, rounding=ROUND_HALF_UP)


def ledger_by_month(months: list[Month]) -> list[LedgerMonth]:
    """Contract fees and all charges per month of the window, and whether billing has run for
    it: two queries.

    A month is read by the charge's `occurred_at`, not by when the billing run posted it: the
    run (billing/run.py) dates a contract fee, and its overage, the first day the term covers
    in the month it bills (the 1st for a whole month), so a January fee posted on 3 February
    falls in January. The other kinds are dated by what they are for too (labour the day of
    the work, billing.services), so one rule serves both figures. (billing.ContractPeriod.period
    says the same for the fees, but would miss a fee posted by hand and cannot count the other
    kinds.)

    Grouped by the month's index in the window, a CASE of the months' ends in order: two
    aggregates over at most `len(months)` groups. A FILTER per month made the database test
    every row against every month; grouping by DATE_TRUNC of the local time converted every
    row to the practice's time zone, half the query's time (30 against 15 ms over the 73,000
    charges of bench/insights.py). The window's months follow each other (Window.periods), so
    a charge belongs to the first month whose end, the practice's midnight as a constant, is
    after it.
    """
    ends = [month.period.ends_at() for month in months]
    month_index = Case(
        *(When(occurred_at__lt=end, then=Value(i)) for i, end in enumerate(ends[:-1])),
        default=Value(len(ends) - 1),
        output_field=IntegerField(),
    )
    rows = (
        Charge.objects.filter(
            occurred_at__gte=months[0].period.starts_at(), occurred_at__lt=ends[-1]
        )
        .annotate(month=month_index)
        .values("month")
        .annotate(fees=Sum("amount", filter=Q(kind=ChargeKind.CONTRACT_FEE)), billed=Sum("amount"))
        .order_by()
    )
    by_index = {row["month"]: row for row in rows}
    # Billing runs month by month: the months after the last one it finished have no fees yet
    # (with no run ever, fees are posted by hand and every month counts as billed).
    last_run = BillingRun.objects.filter(finished_at__isnull=False).aggregate(last=Max("period"))[
        "last"
    ]
    ledger = []
    for i, month in enumerate(months):
        row = by_index.get(i, {})
        fees = cents(row.get("fees") or ZERO)
        ledger.append(
            LedgerMonth(
                fees=fees,
                billed=cents(row.get("billed") or ZERO),
                closed=fees > 0 or last_run is None or month.period.first_day <= last_run,
            )
        )
    return ledger


def month_label(month: Month, books: LedgerMonth) -> str:
    if month.in_progress:
        return month.label
    return month.label if books.closed else f"{month.label} (not billed yet)"


def last_billed_month(months: list[Month], ledger: list[LedgerMonth]) -> int | None:
    """The index of the latest month of the window that has ended and been billed."""
    billed = [
        i
        for i, (m, b) in enumerate(zip(months, ledger, strict=True))
        if not m.in_progress and b.closed
    ]
    return billed[-1] if billed else None


def not_billed_yet(months: list[Month], ledger: list[LedgerMonth]) -> list[tuple[str, Cell]]:
    """A headline that sends the manager to bill the last month that has ended, if it is not."""
    ended = [i for i, m in enumerate(months) if not m.in_progress]
    if not ended or ledger[ended[-1]].closed:
        return []
    period = months[ended[-1]].period
    return [
        (
            "Not billed yet",
            Link(f"Bill {period.label}", reverse("billing:period", args=[str(period)])),
        )
    ]


# --- The contracts ----------------------------------------------------------------------------
# What a term covers, in SQL, by the rule of ServiceContract.last_day and .covering(): from its
# start to its end, and a cancelled one up to the day before it was cancelled. `ended_at` of a
# term that ENDED says nothing about its days: a term renewed early (from the renewals list)
# is ended that day yet covers to its `ends_on`, where the renewal takes over; reading
# `ended_at` there would show a dip in committed revenue that no client caused.
CANCELLED = Q(status=ContractStatus.CANCELLED)
# Cancelled on or before its first day: it never covered a day, so it neither joins nor leaves.
# (Lookups as expressions, not alias() annotations: the ORM rewrites every aggregate of a
# query that has annotations, which costs more than the query itself.)
VOID = CANCELLED & Q(LessThanOrEqual(TruncDate("ended_at"), F("starts_on")))
RENEWAL_VOID = Q(renewed_by__status=ContractStatus.CANCELLED) & Q(
    LessThanOrEqual(TruncDate("renewed_by__ended_at"), F("renewed_by__starts_on"))
)
# Followed by a renewal that covers days: the term's end is not churn but a price change.
RENEWED = Q(renewed_by__isnull=False) & ~RENEWAL_VOID


def runs_through(day: dt.date) -> Q:
    """The term's last day is `day` or later."""
    # Cancelled on `day` or before, i.e. before the next day began in the practice's time zone:
    # a comparison with a constant, cheaper than converting each row's ended_at to a date.
    return Q(ends_on__gte=day) & ~(CANCELLED & Q(ended_at__lt=day_start(day + DAY)))


def covers(day: dt.date) -> Q:
    return Q(starts_on__lte=day) & runs_through(day)


@dataclass(frozen=True)
class Movement:
    amount: Decimal  # MRR gained (new, expansion) or lost (contraction, churn), as a positive sum
    count: int


@dataclass(frozen=True)
class ContractMonth:
    committed: Decimal
    in_force: int
    new: Movement
    expansion: Movement
    contraction: Movement
    churn: Movement

    @property
    def net(self) -> Decimal:
        return self.new.amount + self.expansion.amount - self.contraction.amount - self.churn.amount


def contracts_by_month(months: list[Month]) -> tuple[Decimal, list[ContractMonth]]:
    """Committed MRR before the window, and per month its level and movements: one query.

    A month runs from the day after the previous month's reading to this month's reading
    (`as_of`), so each month's movements add up to the change in committed MRR:
    - new: a term that is no renewal starts (a conversion, or a contract sold by hand);
    - expansion, contraction: a renewal starts at a price above or below its predecessor's (a
      plan change, a first-term discount ending: contracts.services.contract_renew);
    - churn: a term stops covering (cancelled, or ended) and no renewal takes over.
    """
    sql, params = _contracts_sql(tuple((m.period.first_day, m.as_of) for m in months))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = dict(
            zip([column[0] for column in cursor.description], cursor.fetchone(), strict=True)
        )

    def amount(key: str) -> Decimal:
        # SQLite's driver answers a sum of decimals with a float: through str, to the cent.
        value = row[key]
        return cents(Decimal(str(value)) if value is not None else ZERO)

    return amount("committed_before"), [
        ContractMonth(
            committed=amount(f"committed_{i}"),
            in_force=row[f"in_force_{i}"],
            new=Movement(amount(f"new_{i}"), row[f"new_n_{i}"]),
            expansion=Movement(amount(f"up_{i}"), row[f"up_n_{i}"]),
            contraction=Movement(amount(f"down_{i}"), row[f"down_n_{i}"]),
            churn=Movement(amount(f"churn_{i}"), row[f"churn_n_{i}"]),
        )
        for i in range(len(months))
    ]


@functools.lru_cache(maxsize=16)
def _contracts_sql(spans: tuple[tuple[dt.date, dt.date], ...]) -> tuple[str, tuple[Any, ...]]:
    """The contracts query for months spanning (first day, reading day) each, compiled once:
    building its 121 aggregates costs the ORM more than the database takes to run them, and a
    window's spans change once a day. It is compiled for the one database the app uses."""
    first_day = spans[0][0]
    before = first_day - DAY
    aggregates: dict[str, Any] = {"committed_before": Sum("monthly_price", filter=covers(before))}
    joins_as_renewal = Q(renewed_from__isnull=False)
    price_change = F("monthly_price") - F("renewed_from__monthly_price")
    for i, (first, last) in enumerate(spans):
        joins = Q(starts_on__gte=first, starts_on__lte=last)
        up = joins & joins_as_renewal & Q(monthly_price__gt=F("renewed_from__monthly_price"))
        down = joins & joins_as_renewal & Q(monthly_price__lt=F("renewed_from__monthly_price"))
        new = joins & Q(renewed_from__isnull=True)
        # Its last day is in [first - 1, last - 1]: in force at the last reading, not at this one.
        leaves = runs_through(first - DAY) & ~runs_through(last) & ~RENEWED
        aggregates |= {
            f"committed_{i}": Sum("monthly_price", filter=covers(last)),
            f"in_force_{i}": Count("pk", filter=covers(last)),
            f"new_{i}": Sum("monthly_price", filter=new),
            f"new_n_{i}": Count("pk", filter=new),
            f"up_{i}": Sum(price_change, filter=up),
            f"up_n_{i}": Count("pk", filter=up),
            f"down_{i}": Sum(-price_change, filter=down),
            f"down_n_{i}": Count("pk", filter=down),
            f"churn_{i}": Sum("monthly_price", filter=leaves),
            f"churn_n_{i}": Count("pk", filter=leaves),
        }
    query = (
        ServiceContract.objects.filter(starts_on__lte=spans[-1][1], ends_on__gte=before)
        # Once here rather than in every month's filters (each costs the ORM time to build).
        .exclude(VOID)
        # One row of aggregates, as aggregate() would give, but through annotate() over a
        # constant: aggregate() checks each new aggregate against all those before it
        # (Query.get_aggregation's replace_expressions), which for these 121 cost the ORM
        # more than building them. With no GROUP BY the database still returns exactly one
        # row, also when no contract matches.
        .values(one=Value(1))
        .annotate(**aggregates)
        .order_by()
    )
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


# --- The sections -----------------------------------------------------------------------------
def revenue_sections(window: Window, now: dt.datetime) -> tuple[Section, Section]:
    """Recurring revenue and predictability, from one reading of the ledger (a pass over the
    window's charges costs more than anything else on the dashboard)."""
    months = months_of(window, now)
    ledger = ledger_by_month(months)
    target = InsightsSettings.current().recurring_share_target_percent
    return _revenue(months, ledger), _predictability(months, ledger, target)


def revenue_section(window: Window, now: dt.datetime) -> Section:
    return revenue_sections(window, now)[0]


def predictability_section(window: Window, now: dt.datetime) -> Section:
    return revenue_sections(window, now)[1]


def _revenue(months: list[Month], ledger: list[LedgerMonth]) -> Section:
    """Recurring revenue: booked and committed MRR per month, and what moved it."""
    committed_before, contracts = contracts_by_month(months)
    latest, billed = contracts[-1], last_billed_month(months, ledger)
    mrr = Table(
        slug="mrr",
        caption="Monthly recurring revenue: booked and committed",
        columns=("Month", "Booked", "Committed", "Contracts in force"),
        rows=[
            (
                month_label(m, books),
                Money(books.fees) if books.closed or m.in_progress else None,
                Money(c.committed),
                c.in_force,
            )
            for m, books, c in zip(months, ledger, contracts, strict=True)
        ],
        chart=Chart("bar", (Series(1), Series(2, kind="line")), y_label="MRR", money=True),
    )
    movements = Table(
        slug="movements",
        caption="Movements in committed MRR",
        columns=(
            "Month",
            "New",
            "Expansion",
            "Contraction",
            "Churn",
            "Net change",
            "New contracts",
            "Expanded",
            "Contracted",
            "Churned",
        ),
        # Losses as negative amounts: the chart stacks them below the axis.
        rows=[
            (
                m.label,
                Money(c.new.amount),
                Money(c.expansion.amount),
                Money(-c.contraction.amount),
                Money(-c.churn.amount),
                Money(c.net),
                c.new.count,
                c.expansion.count,
                c.contraction.count,
                c.churn.count,
            )
            for m, c in zip(months, contracts, strict=True)
        ],
        chart=Chart(
            "bar",
            (
                Series(1, stack="mrr"),
                Series(2, stack="mrr"),
                Series(3, stack="mrr"),
                Series(4, stack="mrr"),
                Series(5, kind="line"),
            ),
            y_label="Change in MRR",
            money=True,
        ),
    )
    now_label = "now" if months[-1].in_progress else f"at the end of {months[-1].period.label}"
    return Section(
        slug="revenue",
        title="Recurring revenue",
        lead="Booked: the contract fees on the ledger for the month (a part month is prorated). "
        "Committed: the monthly prices of the contracts in force at the month's end, or today "
        "for the month in progress. New, expansion, contraction and churn add up to the change "
        "in committed revenue from one month's end to the next.",
        headline=[
            (f"Committed MRR {now_label}", Money(latest.committed)),
            (
                f"Change since the end of {months[0].period.previous.label}",
                Money(latest.committed - committed_before),
            ),
            (f"Contracts in force {now_label}", latest.in_force),
            *(
                [(f"Booked in {months[billed].period.label}", Money(ledger[billed].fees))]
                if billed is not None
                else []
            ),
            *not_billed_yet(months, ledger),
        ],
        tables=[mrr, movements],
    )


def _predictability(months: list[Month], ledger: list[LedgerMonth], target: Decimal) -> Section:
    """Predictability: the share of each month's billing that contract fees make up."""
    billed = last_billed_month(months, ledger)
    share = None if billed is None else ledger[billed].recurring_share
    if share is None:
        against = "Nothing billed"
    else:
        gap = share - target
        against = (
            "On target"
            if gap == 0
            else f"{abs(gap):.1f} points {'above' if gap > 0 else 'below'} target"
        )
    table = Table(
        slug="share",
        caption="Recurring share of revenue: contract fees against everything billed",
        columns=("Month", "Contract fees", "Everything billed", "Recurring share", "Target"),
        rows=[
            (
                month_label(m, books),
                Money(books.fees),
                Money(books.billed),
                Percent(books.recurring_share),
                Percent(target),
            )
            for m, books in zip(months, ledger, strict=True)
        ],
        chart=Chart(
            "line",
            (Series(3), Series(4, dashed=True)),
            y_label="% of billing",
            percent=True,
        ),
    )
    return Section(
        slug="predictability",
        title="Predictability",
        lead="The share of each month's billing that comes from contract fees (the rest is "
        "labour, overage, paid priority and other sales such as hardware), against the target "
        "set in the insights settings. A month shows its share once billing has run for it: "
        "until then its contract fees are not on the ledger.",
        headline=[
            (
                "Recurring share" + ("" if billed is None else f", {months[billed].period.label}"),
                Percent(share),
            ),
            ("Target", Percent(target)),
            ("Against the target", against),
            *not_billed_yet(months, ledger),
        ],
        tables=[table],
    )
