"""The priority queue: one indexed read in the stored queue order, shaped for fast rendering.

Order (ticket_queue_idx): contract tickets by their current deadline, overdue first; then
paid-priority tickets; then the rest, first come first served. Pages continue with a keyset
cursor (never OFFSET), and nothing counts all tickets.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, reduce
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import DateTimeField, Q, QuerySet
from django.template.loader import get_template
from django.urls import reverse_lazy
from django.utils import timezone

from clients.ids import parse_id
from clients.people import name_from
from contracts.models import Priority
from tickets.models import (
    ACTIONABLE_STATUSES,
    QUEUE_ORDER,
    DeadlineState,
    QueueTier,
    Ticket,
    TicketStatus,
    deadline_state,
)

PAGE_SIZE = 50
PRIORITY_LABELS: dict[str, str] = dict(Priority.choices)
TIER_LABELS: dict[int, str] = dict(QueueTier.choices)
STATUS_LABELS: dict[str, str] = dict(TicketStatus.choices)


@dataclass(frozen=True)
class QueueFilters:
    priority: str = ""
    tier: int | None = None
    assignee: str = ""  # "", "me", "none" or a user id
    q: str = ""
    waiting: bool = False  # show tickets waiting on the client instead of the working line
    client: int | None = None  # one client's tickets (its page links to them)

    @property
    def narrows_line(self) -> bool:
        """Whether rows shown are not simply the head of the whole line."""
        return bool(
            self.priority
            or self.tier is not None
            or self.assignee
            or self.q
            or self.waiting
            or self.client is not None
        )


EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micros(moment: dt.datetime) -> int:
    # Integer microseconds, not float seconds: the cursor must match the stored value exactly.
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


QueueKey = tuple[Any, ...]  # a row's values of QUEUE_ORDER


def _is_moment(name: str) -> bool:
    return isinstance(Ticket._meta.get_field(name), DateTimeField)


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended (the last row's QUEUE_ORDER values), and how many rows came
    before (for places in line)."""

    key: QueueKey
    shown: int

    def encode(self) -> str:
        parts = [
            "-" if value is None else str(_micros(value) if _is_moment(name) else value)
            for name, value in zip(QUEUE_ORDER, self.key, strict=True)
        ]
        return "~".join([*parts, str(self.shown)])

    @classmethod
    def decode(cls, raw: str) -> Cursor:
        """Parse a cursor from the URL; raise ValueError for anything malformed."""
        *parts, shown = raw.split("~")
        if len(parts) != len(QUEUE_ORDER):
            raise ValueError("cursor of another shape")
        try:
            key = tuple(
                None
                if part == "-"
                else EPOCH + dt.timedelta(microseconds=int(part))
                if _is_moment(name)
                else int(part)
                for name, part in zip(QUEUE_ORDER, parts, strict=True)
            )
        except OverflowError:
            raise ValueError("cursor out of range") from None
        cursor = cls(key=key, shown=int(shown))
        values: dict[str, Any] = dict(zip(QUEUE_ORDER, key, strict=True))
        if (
            values["queue_tier"] not in QueueTier.values
            or values["opened_at"] is None
            or not 0 < (values["id"] or 0) < 2**63
            or not 0 <= cursor.shown <= 10**7
        ):
            raise ValueError("cursor out of range")
        return cursor


@dataclass
class QueueRow:
    """One queue line, with every display string computed once in Python."""

    pk: int
    url: str
    subject: str
    client_name: str
    client_url: str
    tier: int
    tier_badge: str  # HTML from the badge include, with the tier's name
    priority_badge: str  # HTML from the badge include, with the priority's name
    status_label: str
    age: str
    deadline_text: str  # where the ticket stands against its deadline ("2h 05m left")
    due_text: str  # the same, with the place in line of a ticket with no guarantee
    due_class: str
    assignee: str
    place: int | None
    paid_priority: bool


def _after(cursor: Cursor) -> Q:
    """Rows strictly after the cursor in QUEUE_ORDER (the keyset condition): for each column,
    the rows equal to the cursor on every column before it and greater on it. A column the
    cursor holds as NULL is NULL throughout its tier (queue_due_at of transactional tickets),
    so it decides nothing and is passed over."""
    branches = []
    equal = Q()
    for name, value in zip(QUEUE_ORDER, cursor.key, strict=True):
        if value is None:
            continue
        branches.append(equal & Q(**{f"{name}__gt": value}))
        equal &= Q(**{name: value})
    return reduce(operator.or_, branches)


def queue_tickets(filters: QueueFilters, user: User) -> QuerySet[Ticket]:
    tickets = Ticket.objects.all()
    tickets = (
        tickets.filter(status=TicketStatus.WAITING_ON_CLIENT)
        if filters.waiting
        else tickets.filter(status__in=ACTIONABLE_STATUSES)
    )
    if filters.client is not None:
        tickets = tickets.filter(client_id=filters.client)
    if filters.priority:
        tickets = tickets.filter(priority=filters.priority)
    if filters.tier is not None:
        tickets = tickets.filter(queue_tier=filters.tier)
    if filters.assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif filters.assignee == "none":
        tickets = tickets.filter(assignee__isnull=True)
    elif filters.assignee:
        tickets = tickets.filter(assignee_id=int(filters.assignee))
    if filters.q:
        term = filters.q.lstrip("#")
        match = Q(subject__icontains=filters.q) | Q(client__name__icontains=filters.q)
        # "#42" or "42" is also a ticket number; "²" and "#²" are only text (parse_id).
        if (pk := parse_id(term)) is not None:
            match |= Q(pk=pk)
        tickets = tickets.filter(match)
    return tickets.in_queue_order()


def places_in_line(ids: list[int]) -> dict[int, int]:
    """Return each ticket's place in the whole working line (for filtered views, and the
    client page)."""
    if not ids:
        return {}
    table = Ticket._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    statuses = ", ".join(["%s"] * len(ACTIONABLE_STATUSES))
    column = {field.name: field.column for field in Ticket._meta.concrete_fields}
    order = ", ".join(column[name] for name in QUEUE_ORDER)
    sql = (
        f"SELECT id, place FROM (SELECT id, ROW_NUMBER() OVER "  # noqa: S608 (no user text in SQL)
        f"(ORDER BY {order}) AS place "
        f"FROM {table} WHERE status IN ({statuses})) ranked WHERE id IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ACTIONABLE_STATUSES, *ids])
        return dict(cursor.fetchall())


def _duration(delta: dt.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


# The columns a queue row needs, read as plain values: building model instances for 51 rows
# costs more than the SQL that fetches them.
ROW_FIELDS = (
    "id", "subject", "priority", "status", "queue_tier", "queue_due_at", "opened_at",
    "first_response_at", "response_risk_at", "resolution_risk_at", "sla_paused_at",
    "paid_priority", "client_id", "client__name", "assignee__first_name",
    "assignee__last_name", "assignee__username",
)  # fmt: skip
DETAIL_URL = reverse_lazy("tickets:detail", args=[0])
CLIENT_URL = reverse_lazy("tickets:client", args=[0])
BADGE_TEMPLATE = "tickets/_badge.html"

Badge = Callable[[str, object, str], str]


def badge_renderer() -> Badge:
    """Render the badge include once per distinct badge on a page, not twice per row.

    A page holds seven different badges at most (three tiers, four priorities); an include per
    row cost 100 template renders on a page of 50 rows.
    """
    template = get_template(BADGE_TEMPLATE)

    @cache
    def badge(kind: str, value: object, label: str) -> str:
        return template.render({"kind": kind, "value": value, "label": label})

    return badge


@dataclass(frozen=True)
class Prefixes:
    """The start of a ticket's and of a client's address: one reverse() each for a page, not one
    {% url %} per row (rendering is where the time goes)."""

    ticket: str
    client: str

    @classmethod
    def load(cls) -> Prefixes:
        return cls(str(DETAIL_URL).removesuffix("0/"), str(CLIENT_URL).removesuffix("0/"))


def _row(
    t: dict[str, Any], now: dt.datetime, place: int | None, prefixes: Prefixes, badge: Badge
) -> QueueRow:
    due_at: dt.datetime | None = t["queue_due_at"]
    risk_at = t["response_risk_at"] if t["first_response_at"] is None else t["resolution_risk_at"]
    state = deadline_state(
        due_at=due_at, risk_at=risk_at, paused=t["sla_paused_at"] is not None, now=now
    )
    if state == DeadlineState.NONE:
        deadline_text, due_class = "no guarantee", "text-body-secondary"
    elif state == DeadlineState.PAUSED:
        deadline_text, due_class = "paused (waiting on client)", "text-body-secondary"
    elif state == DeadlineState.OVERDUE:
        deadline_text, due_class = f"overdue {_duration(now - due_at)}", "sla-overdue"  # type: ignore[operator]
    else:
        deadline_text = f"{_duration(due_at - now)} left"  # type: ignore[operator]
        due_class = "sla-risk" if state == DeadlineState.AT_RISK else "sla-ok"
    due_text = deadline_text
    if state == DeadlineState.NONE and place:
        due_text = f"no guarantee · #{place} in line"
    return QueueRow(
        pk=t["id"],
        url=f"{prefixes.ticket}{t['id']}/",
        subject=t["subject"],
        client_name=t["client__name"],
        client_url=f"{prefixes.client}{t['client_id']}/",
        tier=t["queue_tier"],
        tier_badge=badge("tier", t["queue_tier"], TIER_LABELS[t["queue_tier"]]),
        priority_badge=badge("priority", t["priority"], PRIORITY_LABELS[t["priority"]]),
        status_label=STATUS_LABELS[t["status"]],
        age=_duration(now - t["opened_at"]),
        deadline_text=deadline_text,
        due_text=due_text,
        due_class=due_class,
        assignee=name_from(
            t["assignee__first_name"], t["assignee__last_name"], t["assignee__username"]
        ),
        place=place,
        paid_priority=t["paid_priority"],
    )


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


def queue_page(
    filters: QueueFilters,
    user: User,
    after: Cursor | None = None,
    *,
    size: int = PAGE_SIZE,
    every_place: bool = False,
) -> QueuePage:
    """Return one page of the queue: two queries at most (rows, and places when filtered).

    A filtered page knows the places of its tickets with no guarantee (their deadline is their
    place); `every_place` asks for the contract tickets' places too (the client page).
    """
    tickets = queue_tickets(filters, user)
    if after is not None:
        tickets = tickets.filter(_after(after))
    fetched = list(tickets.values(*ROW_FIELDS)[: size + 1])
    has_more = len(fetched) > size
    shown = fetched[:size]
    shown_before = after.shown if after else 0
    if filters.narrows_line:
        places = (
            {}
            if filters.waiting
            else places_in_line(
                [t["id"] for t in shown if every_place or t["queue_due_at"] is None]
            )
        )
    else:
        places = {t["id"]: shown_before + i + 1 for i, t in enumerate(shown)}
    now = timezone.now()
    prefixes = Prefixes.load()
    badge = badge_renderer()
    rows = [_row(t, now, places.get(t["id"]), prefixes, badge) for t in shown]
    next_cursor = None
    if has_more:
        last = shown[-1]
        next_cursor = Cursor(
            key=tuple(last[name] for name in QUEUE_ORDER), shown=shown_before + len(shown)
        ).encode()
    return QueuePage(rows=rows, next_cursor=next_cursor)
