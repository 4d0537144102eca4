"""The demo's consultants: enough of them for the practice's size, none working a double shift.

The three named demo consultants (samples.DEMO_USERS) serve the default practice; a bigger one
gets one more consultant per TICKETS_A_YEAR tickets a year, named from the sample names, so
nobody logs a thousand hours a week. Then the work is spread so that no one logs more than
DAY_CAP on a day while a colleague has room that day.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.utils import timezone

from consultancy.demo.bulk import bulk_insert
from consultancy.demo.samples import DEMO_USERS, PEOPLE_FIRST, PEOPLE_LAST
from consultancy.demo.workload import TicketDraft
from consultancy.roles import CONSULTANTS

TICKETS_A_YEAR = 1100  # one consultant's share: about 1,400 hours of work a year
DAY_CAP = 8 * 60 + 30  # minutes one consultant logs on a day, while others have room


def staff_consultants(named: list[User], *, tickets_a_year: float) -> list[User]:
    """The named demo consultants, and as many more as `tickets_a_year` needs (created)."""
    wanted = max(len(named), math.ceil(tickets_a_year / TICKETS_A_YEAR))
    taken = {u for u, *_ in DEMO_USERS}
    # One hash for all: each make_password costs a fifth of a second.
    password = make_password(DEMO_USERS[1][1])
    people = [(f, last) for last in PEOPLE_LAST for f in PEOPLE_FIRST]
    extra = []
    for first, last in people[: wanted - len(named)]:
        username = f"{first}.{last}".lower()
        if username in taken:
            continue
        extra.append(
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@practice.example",
                is_staff=True,
                password=password,
            )
        )
    extra = bulk_insert(User, extra)
    group = Group.objects.get(name=CONSULTANTS)
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=u.pk, group_id=group.pk) for u in extra]
    )
    return named + extra


def spread_work(drafts: list[TicketDraft], consultants: list[User]) -> None:
    """Hand a day's work beyond DAY_CAP to the colleague with the least logged that day."""
    logged: dict[tuple[int, dt.date], int] = defaultdict(int)
    for draft in sorted(drafts, key=lambda d: d.ticket.opened_at):
        ticket, minutes = draft.ticket, draft.work_minutes
        if not minutes or ticket.assignee is None:
            continue
        day = timezone.localdate(ticket.first_response_at or ticket.opened_at)
        if logged[(ticket.assignee.pk, day)] + minutes > DAY_CAP:
            ticket.assignee = min(consultants, key=lambda u: logged[(u.pk, day)])
        logged[(ticket.assignee.pk, day)] += minutes
