"""Promises kept: did contract tickets get their first response and resolution in time?

Per plan and priority, over the 30 and 90 days up to the window's end (or now), in one query.
A target is met when the ticket was answered (resolved) by its deadline, missed when it was
answered late or is still unanswered past the deadline, and pending otherwise (not counted in
the percentages).

Pauses: while a ticket waits on the client its clock stops, and resuming moves the stored
deadlines on by the time that was left (tickets.services._resume, contracts.sla.
resume_deadline). So once a pause has ended the stored deadline already accounts for it, and
a plain comparison is right. While a ticket is paused its stored deadline is stale: if the
pause began before the deadline, the clock stopped with time left, so the target cannot be
missed yet (and a reply sent during the pause was in time); a deadline already reached when
the pause began stays missed, as resume_deadline keeps it.

Resolving a ticket answers it: a ticket resolved with no reply first has its first response at
its resolution (else it would stay "pending" forever).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from clients.figures import Cell, Chart, Link, Percent, Section, Series, Table
from contracts.models import ContractPlan, Priority
from insights.conversion import share
from insights.window import Window, WindowForm
from tickets.models import Ticket

DAYS = (30, 90)
PRIORITY_ORDER = {p: n for n, p in enumerate(reversed(Priority.values))}  # urgent first


@dataclass(frozen=True)
class Target:
    slug: str
    done: str  # the alias of the moment the target was met (or missed) at
    due: str
    done_words: str


RESPONSE = Target("response", "responded_at", "response_due_at", "Answered")
RESOLUTION = Target("resolution", "resolved_at", "resolution_due_at", "Resolved")
TARGETS = {t.slug: t for t in (RESPONSE, RESOLUTION)}


def contract_tickets() -> QuerySet[Ticket]:
    """Contract tickets with the moment of each target's outcome (responded_at, resolved_at)."""
    return Ticket.objects.filter(contract__isnull=False).alias(
        responded_at=Coalesce("first_response_at", "resolved_at")
    )


def _paused_before(target: Target) -> Q:
    return Q(sla_paused_at__isnull=False, sla_paused_at__lt=F(target.due))


def met(target: Target) -> Q:
    done = target.done
    return Q(**{f"{done}__isnull": False}) & (
        Q(**{f"{done}__lte": F(target.due)}) | _paused_before(target)
    )


def missed(target: Target, now: dt.datetime) -> Q:
    clock_ran = Q(sla_paused_at__isnull=True) | Q(sla_paused_at__gte=F(target.due))
    late = Q(**{f"{target.done}__gt": F(target.due)}) | Q(
        **{f"{target.done}__isnull": True, f"{target.due}__lt": now}
    )
    return clock_ran & late


def opened_within(days: int, ends: dt.datetime) -> Q:
    return Q(opened_at__gte=ends - dt.timedelta(days=days), opened_at__lt=ends)


def _counts(ends: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for days in DAYS:
        within = opened_within(days, ends)
        counts[f"tickets_{days}"] = Count("id", filter=within)
        for target in TARGETS.values():
            counts[f"met_{target.slug}_{days}"] = Count("id", filter=within & met(target))
            counts[f"missed_{target.slug}_{days}"] = Count(
                "id", filter=within & missed(target, now)
            )
    return counts


COLUMNS = (
    "Plan · priority",
    "Tickets",
    "Answered in time",
    "Answered late",
    "Response kept",
    "Response pending",
    "Resolved in time",
    "Resolved late",
    "Resolution kept",
    "Resolution pending",
)


def build(window: Window, now: dt.datetime) -> Section:
    ends = window.ends_at(now)
    rows = list(
        contract_tickets()
        .filter(opened_within(max(DAYS), ends))
        .values("contract__plan_id", "contract__plan__name", "priority")
        .annotate(**_counts(ends, now))
        .order_by()
    )
    rows.sort(key=lambda r: (r["contract__plan__name"], PRIORITY_ORDER.get(r["priority"], 9)))
    headline: list[tuple[str, Cell]] = []
    tables = []
    for days in DAYS:
        total: dict[str, Any] = {"contract__plan_id": None, "priority": ""}
        for key in _counts(ends, now):
            total[key] = sum(row[key] for row in rows)
        table = Table(
            slug=f"sla-{days}",
            caption=f"Contract tickets opened in the {days} days up to "
            f"{timezone.localtime(ends):%Y-%m-%d %H:%M}",
            columns=COLUMNS,
            rows=[
                [
                    f"{row['contract__plan__name']} · {Priority(row['priority']).label}",
                    *_cells(row, days, window),
                ]
                for row in rows
                if row[f"tickets_{days}"]
            ],
            chart=Chart(
                kind="bar",
                series=(Series(4), Series(8)),
                y_label="Targets kept",
                percent=True,
            ),
            empty=f"No contract ticket was opened in these {days} days.",
        )
        if table.rows:
            table.rows.append(["All plans", *_cells(total, days, window)])
        tables.append(table)
        headline += [
            (f"Responses in time, {days} days", _kept(total, RESPONSE, days)),
            (f"Resolutions in time, {days} days", _kept(total, RESOLUTION, days)),
        ]
    return Section(
        slug="promises",
        title="Promises kept",
        lead="Contract tickets per plan and priority: the first response and the resolution "
        "within the plan's targets. A ticket answered late, or still unanswered past its "
        "deadline, missed it; one still inside its target is pending and left out of the "
        "percentages. Time waiting on the client does not count.",
        headline=headline,
        tables=tables,
    )


def _kept(row: dict[str, Any], target: Target, days: int) -> Percent:
    met_, missed_ = row[f"met_{target.slug}_{days}"], row[f"missed_{target.slug}_{days}"]
    return share(met_, met_ + missed_)


def _cells(row: dict[str, Any], days: int, window: Window) -> list[Cell]:
    cells: list[Cell] = [row[f"tickets_{days}"]]
    for target in TARGETS.values():
        met_, missed_ = row[f"met_{target.slug}_{days}"], row[f"missed_{target.slug}_{days}"]
        query: dict[str, str | int] = {"days": days, "target": target.slug, "to": str(window.last)}
        if row["contract__plan_id"] is not None:
            query |= {"plan": row["contract__plan_id"], "priority": row["priority"]}
        url = f"{reverse('insights:missed')}?{urlencode(query)}"
        cells += [
            met_,
            Link(str(missed_), url) if missed_ else 0,
            _kept(row, target, days),
            row[f"tickets_{days}"] - met_ - missed_,
        ]
    return cells


# --- The tickets behind a "late" figure ---------------------------------------------------------


class MissedForm(WindowForm):
    """Which missed tickets to list: the window's last month (to), the days, target, plan and
    priority of the figure clicked, and the page."""

    days = forms.TypedChoiceField(
        choices=[(d, f"{d} days") for d in DAYS],
        coerce=int,
        error_messages={
            "required": "Say how many days: 30 or 90.",
            "invalid_choice": "Pick 30 or 90 days, not %(value)s.",
        },
    )
    target = forms.ChoiceField(
        choices=[(t.slug, t.slug) for t in TARGETS.values()],
        error_messages={
            "required": "Say which target: response or resolution.",
            "invalid_choice": "The target is response or resolution, not %(value)s.",
        },
    )
    plan = forms.ModelChoiceField(
        queryset=ContractPlan.objects.all(),
        required=False,
        error_messages={"invalid_choice": "There is no plan %(value)s."},
    )
    priority = forms.ChoiceField(
        choices=[("", "Any"), *Priority.choices],
        required=False,
        error_messages={"invalid_choice": "There is no priority %(value)s."},
    )
    page = forms.IntegerField(
        min_value=1,
        required=False,
        error_messages={
            "invalid": "The page is a whole number.",
            "min_value": "Pages start at 1.",
        },
    )


def missed_tickets(
    *,
    target: Target,
    days: int,
    ends: dt.datetime,
    now: dt.datetime,
    plan: ContractPlan | None,
    priority: str,
) -> QuerySet[Ticket]:
    """The contract tickets that missed `target`, newest first (the figure's tickets)."""
    tickets = contract_tickets().filter(opened_within(days, ends), missed(target, now))
    if plan is not None:
        tickets = tickets.filter(contract__plan=plan)
    if priority:
        tickets = tickets.filter(priority=priority)
    return (
        tickets.annotate(done_at=F(target.done))
        .select_related("client", "contract__plan")
        .order_by("-opened_at", "-id")
    )


def late_words(late: dt.timedelta) -> str:
    """How late, to the minute: "3 d 4 h", "2 h 5 min"."""
    minutes = int(late.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (mins, "min")) if n]
    return " ".join(parts[:2]) or "under a minute"


@dataclass(frozen=True)
class MissedRow:
    ticket: Ticket
    due_at: dt.datetime
    done_at: dt.datetime | None
    late_by: str


def missed_rows(tickets: Any, target: Target, now: dt.datetime) -> list[MissedRow]:
    """One page of missed tickets with how late each was (still unanswered: late until now)."""
    rows = []
    for ticket in tickets:
        due_at: dt.datetime = getattr(ticket, target.due)
        done_at: dt.datetime | None = ticket.done_at
        rows.append(MissedRow(ticket, due_at, done_at, late_words((done_at or now) - due_at)))
    return rows
