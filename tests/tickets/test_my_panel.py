"""The panel above the queue: the signed-in consultant's own open tickets, those at risk and
overdue, and the time they logged this week (tickets.workload.my_work)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import HOUR
from tests.factories import (
    ContractFactory,
    ContractTicketFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)
from tests.tickets.workload_helpers import (
    MONDAY,
    PREVIOUS_SUNDAY,
    WEDNESDAY,
    practice_on_wednesday,
)
from tickets.models import Ticket, TimeEntry
from tickets.workload import Week, my_work

QUEUE = "/queue/"


@pytest.fixture
def wednesday(time_machine: Any) -> dt.datetime:
    time_machine.move_to(WEDNESDAY, tick=False)
    return WEDNESDAY


@pytest.fixture
def practice(wednesday: dt.datetime, manager: User, consultant: User, other_consultant: User):
    frank = UserFactory(username="frank", first_name="Frank", is_active=False)
    return practice_on_wednesday(manager, consultant, other_consultant, frank)


# --- Figures ------------------------------------------------------------------------------------
def test_my_work_counts_own_open_tickets_by_their_current_deadline(
    practice: Any, consultant: User, wednesday: dt.datetime
) -> None:
    mine = my_work(consultant, wednesday)

    # Bob holds B1-B5 open (B4 waiting on the client); his resolved ticket and Carol's and the
    # unassigned tickets are not his. B1 is at risk, B2 overdue; B3's passed response deadline
    # was answered, B4's clock is paused, B5 has no deadline.
    assert (mine.open, mine.waiting, mine.in_line) == (5, 1, 4)
    assert (mine.at_risk, mine.overdue) == (1, 1)


def test_my_work_sums_the_week_from_monday_and_today(
    practice: Any, consultant: User, other_consultant: User, wednesday: dt.datetime
) -> None:
    bob, carol = my_work(consultant, wednesday), my_work(other_consultant, wednesday)

    # Bob: Monday 90 + today 45 = 135 min = 2.25 h; Sunday's 120 min was last week.
    assert (bob.week_minutes, bob.today_minutes) == (135, 45)
    assert (bob.week_hours, bob.today_hours) == (Decimal("2.25"), Decimal("0.75"))
    # Carol: today 300 min = 5.00 h; Sunday's 60 min was last week.
    assert (carol.week_hours, carol.today_hours) == (Decimal("5.00"), Decimal("5.00"))
    assert bob.week.monday == MONDAY


def test_the_week_is_the_practices_week_not_utcs(time_machine: Any, consultant: User) -> None:
    # Sunday 9 March 2025, 9 pm in New York (EDT since 2 am that day) is 01:00 on Monday in UTC.
    sunday_evening = dt.datetime(2025, 3, 10, 1, 0, tzinfo=dt.UTC)
    time_machine.move_to(sunday_evening, tick=False)
    ticket = TicketFactory(assignee=consultant)
    TimeEntryFactory(ticket=ticket, consultant=consultant, work_date=PREVIOUS_SUNDAY, minutes=30)
    TimeEntryFactory(ticket=ticket, consultant=consultant, work_date=MONDAY, minutes=60)

    mine = my_work(consultant, sunday_evening)

    # In New York it is still Sunday: the week is Mon 3 to Sun 9 March, today the 9th, so the
    # 30 minutes count (week and today) and Monday the 10th's 60 belong to next week.
    assert mine.week == Week(PREVIOUS_SUNDAY)
    assert mine.week.monday == dt.date(2025, 3, 3)
    assert (mine.week_minutes, mine.today_minutes) == (30, 30)


def test_my_work_is_zero_for_someone_with_nothing(wednesday: dt.datetime, consultant: User) -> None:
    mine = my_work(consultant, wednesday)

    assert (mine.open, mine.at_risk, mine.overdue, mine.week_minutes) == (0, 0, 0, 0)
    assert mine.week_hours == Decimal("0.00")


def _more_work(consultant: User, count: int) -> None:
    """`count` more open tickets of Bob's (a third of them overdue) and as many time entries."""
    ticket = TicketFactory()  # unassigned: the time entries' ticket, not one more of Bob's
    contract = ContractFactory()
    Ticket.objects.bulk_create(
        ContractTicketFactory.build(
            contract=contract, opened_at=WEDNESDAY - 10 * HOUR, assignee=consultant
        )
        if n % 3 == 0
        else TicketFactory.build(client=ticket.client, assignee=consultant)
        for n in range(count)
    )
    TimeEntry.objects.bulk_create(
        TimeEntryFactory.build(
            ticket=ticket, consultant=consultant, work_date=MONDAY, minutes=1, billable_minutes=1
        )
        for _ in range(count)
    )


def test_my_work_takes_two_queries_for_few_or_many_tickets(
    practice: Any, consultant: User, wednesday: dt.datetime, django_assert_num_queries: Any
) -> None:
    # One aggregate over Bob's open tickets, one over his time entries of the week.
    with django_assert_num_queries(2):
        few = my_work(consultant, wednesday)
    _more_work(consultant, 300)
    with django_assert_num_queries(2):
        many = my_work(consultant, wednesday)

    # 300 more: 100 contract tickets (every third) opened 10 h ago, due 4 h after: overdue.
    assert (many.open, many.overdue) == (few.open + 300, few.overdue + 100)
    assert many.week_minutes == few.week_minutes + 300


# --- The queue page -----------------------------------------------------------------------------
def test_consultant_sees_own_figures_above_the_queue(
    practice: Any, consultant_client: HttpClient
) -> None:
    response = consultant_client.get(QUEUE)

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["my"].open == 5
    panel = html.partition('id="my-work"')[2].partition("</section>")[0]
    assert html.index('id="my-work"') < html.index('id="queue-filters"')
    assert '<a class="fw-semibold" href="/queue/?assignee=me"' in panel
    assert ">5</a>" in panel
    assert "1 waiting on client</a>" in panel
    assert 'href="/queue/?assignee=me&amp;waiting=on"' in panel
    assert (
        '<a class="badge text-bg-warning text-decoration-none" href="/queue/?assignee=me"' in panel
    )
    assert (
        '<a class="badge text-bg-danger text-decoration-none" href="/queue/?assignee=me"' in panel
    )
    # B1 at risk, B2 overdue: one each.
    assert 'most urgent first">1</a></dd>' in panel
    assert 'overdue first">1</a></dd>' in panel
    assert "2.25 h" in panel
    assert "today 0.75 h" in panel
    assert "since Monday 10 Mar" in panel


def test_manager_sees_own_figures_above_the_queue(
    practice: Any, manager_client: HttpClient
) -> None:
    response = manager_client.get(QUEUE)

    # Alice works tickets too, but holds none and logged no time.
    assert response.status_code == 200
    mine = response.context["my"]
    assert (mine.open, mine.at_risk, mine.overdue, mine.week_minutes) == (0, 0, 0, 0)
    panel = response.content.decode().partition('id="my-work"')[2].partition("</section>")[0]
    assert 'id="my-at-risk">0</dd>' in panel
    assert "0.00 h" in panel


def test_anonymous_visitor_gets_the_login_page_not_the_panel(anon_client: HttpClient) -> None:
    response = anon_client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_live_refresh_skips_the_panel(practice: Any, consultant_client: HttpClient) -> None:
    # The table refresh every 20 seconds swaps the table alone: no panel, no aggregates.
    response = consultant_client.get(QUEUE, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "my" not in response.context
    assert 'id="my-work"' not in response.content.decode()


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


@pytest.mark.postgres
def test_the_panels_queries_can_be_answered_from_their_indexes(
    practice: Any, consultant: User, wednesday: dt.datetime
) -> None:
    """On a handful of rows PostgreSQL rightly prefers a scan of the table; with scans made
    unattractive, each of the panel's queries must still find an index that matches it (for the
    partial ticket index, its condition too). At 100,000 tickets the planner picks
    ticket_open_assignee_idx and time_consultant_date_idx unprompted."""
    with CaptureQueriesContext(connection) as captured:
        my_work(consultant, wednesday)
    tickets_sql, time_sql = (q["sql"] for q in captured.captured_queries)

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = []
        for sql in (tickets_sql, time_sql):
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plans.append(_nodes(cursor.fetchone()[0][0]["Plan"]))

    ticket_plan, time_plan = plans
    assert {n.get("Index Name") for n in ticket_plan} >= {"ticket_open_assignee_idx"}
    # The time entries: equality on consultant, a range on work_date. Here the planner may take
    # the foreign key's own index on consultant as readily as (consultant, work_date); what
    # matters is that no table scan is needed.
    assert [n for n in time_plan if n.get("Relation Name") == "tickets_timeentry"]
    assert not [n for n in ticket_plan + time_plan if n["Node Type"] == "Seq Scan"]
    assert any("consultant_id" in n.get("Index Cond", "") for n in time_plan)
