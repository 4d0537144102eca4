"""Queue health and workload: the open tickets by tier with those at risk and overdue, and each
consultant's open tickets and hours logged this week.

A picture of now, not of the window: the period picker does not change it. Three queries whatever
the number of tickets: open tickets by tier, open tickets by assignee, and the people to name
with their minutes of the week. The counting rules are tickets.workload's, the ones the
consultant's own panel above the queue uses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from clients.figures import Cell, Chart, Section, Series, Table
from clients.money import as_hours
from clients.people import staff_name
from insights.window import Window
from tickets.models import QueueTier, Ticket, TimeEntry
from tickets.staff import consultants
from tickets.workload import Week, ticket_counts

ZERO_COUNTS = {"open": 0, "waiting": 0, "at_risk": 0, "overdue": 0}


def _tiers(now: dt.datetime) -> tuple[Table, dict[str, int]]:
    """The table by tier, and the totals over all tiers (headline figures)."""
    counts = {
        row["queue_tier"]: row
        for row in Ticket.objects.open()
        .values("queue_tier")
        .annotate(**ticket_counts(now))
        .order_by("queue_tier")
    }
    rows: list[Sequence[Cell]] = []
    total = dict.fromkeys(ZERO_COUNTS, 0)
    for tier in QueueTier:
        c = counts.get(tier.value, ZERO_COUNTS)
        fine = c["open"] - c["at_risk"] - c["overdue"]
        rows.append([str(tier.label), c["open"], fine, c["at_risk"], c["overdue"]])
        total = {key: total[key] + c[key] for key in total}
    table = Table(
        slug="tiers",
        caption="Open tickets by tier",
        columns=["Tier", "Open", "Not at risk", "At risk", "Overdue"],
        rows=rows,
        # The three parts of each bar add up to the open tickets of the tier. Overdue before at
        # risk: Chart.js's default palette then draws them red and orange (fine is blue).
        chart=Chart(
            kind="bar",
            series=(
                Series(2, stack="open"),
                Series(4, stack="open"),
                Series(3, stack="open"),
            ),
            y_label="Open tickets",
        ),
    )
    return table, total


def _people(now: dt.datetime) -> tuple[Table, int, int]:
    """The per-consultant table, the open tickets nobody holds, and the week's minutes of all."""
    by_assignee = {
        row["assignee"]: row
        for row in Ticket.objects.open()
        .values("assignee")
        .annotate(**ticket_counts(now))
        .order_by("assignee")
    }
    week = Week.of(now)
    # The week's time person by person, through time_consultant_date_idx (consultant, work_date):
    # staff are few and time entries many, and no index leads with work_date alone.
    entries = TimeEntry.objects.filter(week.entries(), consultant=OuterRef("pk")).order_by()
    minutes = entries.values("consultant").annotate(minutes=Sum("minutes")).values("minutes")
    # Everyone who may work tickets, and anyone else who holds open tickets or logged time this
    # week (a consultant who left with tickets still assigned should show, not vanish).
    holders = [pk for pk in by_assignee if pk is not None]
    people = (
        get_user_model()
        .objects.filter(
            Q(pk__in=consultants().order_by().values("pk")) | Q(pk__in=holders) | Q(Exists(entries))
        )
        .annotate(week_minutes=Coalesce(Subquery(minutes), Value(0)))
    )
    rows: list[Sequence[Cell]] = []
    week_minutes = 0
    for person in sorted(people, key=lambda p: (staff_name(p).casefold(), p.pk)):
        c = by_assignee.get(person.pk, ZERO_COUNTS)
        hours = as_hours(person.week_minutes)
        rows.append([staff_name(person), c["open"], c["at_risk"], c["overdue"], hours])
        week_minutes += person.week_minutes
    table = Table(
        slug="consultants",
        caption=f"Consultants: open tickets and hours logged in the week of "
        f"{week.monday:%b} {week.monday.day}",
        columns=["Consultant", "Open", "At risk", "Overdue", "Hours this week"],
        rows=rows,
        chart=Chart(kind="bar", series=(Series(4),), y_label="Hours"),
        empty="Nobody works tickets yet.",
    )
    return table, by_assignee.get(None, ZERO_COUNTS)["open"], week_minutes


def build(window: Window, now: dt.datetime) -> Section:
    tiers, total = _tiers(now)
    people, unassigned, week_minutes = _people(now)
    return Section(
        slug="workload",
        title="Queue health and workload",
        lead="Open tickets as they stand now (the months picked above do not change this "
        "section). At risk: within 25% of a contract deadline; overdue: past it. Waiting on "
        "the client counts as open; its clock is paused, so it is never at risk.",
        headline=[
            ("Open tickets", total["open"]),
            ("At risk", total["at_risk"]),
            ("Overdue", total["overdue"]),
            ("Unassigned", unassigned),
            ("Hours logged this week", as_hours(week_minutes)),
        ],
        tables=[tiers, people],
    )
