"""A consultant's workload: open tickets, deadlines at risk or past, time logged this week.

The queue page's panel reads one person's figures in two aggregates (tickets through
ticket_open_assignee_idx, time through time_consultant_date_idx); the manager's insights group
the same expressions by tier and by person, so both count by one rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clients.money import as_hours
from tickets.models import Ticket, TicketStatus, TimeEntry
from tickets.sla_risk import past_risk


def at_risk(now: dt.datetime) -> Q:
    """Open tickets whose current deadline is near (past its risk moment) but not yet passed."""
    return past_risk(now) & Q(queue_due_at__gte=now)


def overdue(now: dt.datetime) -> Q:
    """Tickets whose current deadline has passed while the clock runs (paused ones wait)."""
    return past_risk(now) & Q(queue_due_at__lt=now)


def ticket_counts(now: dt.datetime) -> dict[str, Count]:
    """Aggregates over open tickets: all, waiting on the client, at risk, overdue."""
    return {
        "open": Count("pk"),
        "waiting": Count("pk", filter=Q(status=TicketStatus.WAITING_ON_CLIENT)),
        "at_risk": Count("pk", filter=at_risk(now)),
        "overdue": Count("pk", filter=overdue(now)),
    }


@dataclass(frozen=True)
class Week:
    """The calendar week (Monday to Sunday) holding `today` in the practice's time zone."""

    today: dt.date

    @classmethod
    def of(cls, now: dt.datetime) -> Week:
        # The practice's date, not UTC's: at 9 pm on a Sunday in New York it is Monday in UTC.
        return cls(timezone.localdate(now))

    @property
    def monday(self) -> dt.date:
        return self.today - dt.timedelta(days=self.today.weekday())

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)

    def entries(self) -> Q:
        """Time entries whose work date falls in the week (a range on the indexed work_date)."""
        return Q(work_date__gte=self.monday, work_date__lte=self.sunday)


def minutes_logged(week: Week) -> dict[str, Coalesce]:
    """Aggregates over time entries of the week: minutes in it, and minutes today."""
    return {
        "week_minutes": Coalesce(Sum("minutes"), Value(0)),
        "today_minutes": Coalesce(Sum("minutes", filter=Q(work_date=week.today)), Value(0)),
    }


@dataclass(frozen=True)
class MyWork:
    """The signed-in consultant's own figures, for the panel above the queue."""

    open: int
    waiting: int
    at_risk: int
    overdue: int
    week_minutes: int
    today_minutes: int
    week: Week

    @property
    def in_line(self) -> int:
        """Open tickets the consultant can act on now (the queue's "Mine" shows them)."""
        return self.open - self.waiting

    @property
    def week_hours(self) -> Decimal:
        return as_hours(self.week_minutes)

    @property
    def today_hours(self) -> Decimal:
        return as_hours(self.today_minutes)


def my_work(user: AbstractBaseUser, now: dt.datetime) -> MyWork:
    """Return one person's workload in two queries, whatever the number of tickets."""
    week = Week.of(now)
    # Equality on assignee and the open statuses: exactly ticket_open_assignee_idx's columns and
    # condition, so the database reads this person's open tickets and nothing else.
    tickets = Ticket.objects.open().filter(assignee_id=user.pk).aggregate(**ticket_counts(now))
    logged = (
        TimeEntry.objects.filter(week.entries(), consultant_id=user.pk)
        .order_by()
        .aggregate(**minutes_logged(week))
    )
    return MyWork(week=week, **tickets, **logged)
