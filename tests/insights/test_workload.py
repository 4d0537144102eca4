"""Queue health and workload on the insights dashboard: open tickets by tier with those at risk
and overdue, and per consultant open tickets and hours logged this week. The figures are worked
out by hand in tests/tickets/workload_helpers.practice_on_wednesday."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from insights import workload
from insights.window import Window
from tests.conftest import HOUR
from tests.factories import ClientFactory, ContractFactory, TimeEntryFactory, UserFactory
from tests.tickets.workload_helpers import MONDAY, WEDNESDAY, practice_on_wednesday
from tickets.models import Ticket, TimeEntry

DASHBOARD = "/insights/"


@pytest.fixture
def wednesday(time_machine: Any) -> dt.datetime:
    time_machine.move_to(WEDNESDAY, tick=False)
    return WEDNESDAY


@pytest.fixture
def practice(
    wednesday: dt.datetime,
    manager: User,
    consultant: User,
    other_consultant: User,
    roleless: User,
) -> Any:
    frank = UserFactory(username="frank", first_name="Frank", is_active=False)
    return practice_on_wednesday(manager, consultant, other_consultant, frank)


def _build(now: dt.datetime) -> Any:
    return workload.build(Window.default(now.date()), now)


def test_open_tickets_by_tier_split_into_at_risk_overdue_and_the_rest(
    practice: Any, wednesday: dt.datetime
) -> None:
    tiers = _build(wednesday).table("tiers")

    # Contract: 6 open = 2 not at risk (B3, B4 paused) + 2 at risk (B1, U1) + 2 overdue (B2, C1).
    # Paid priority and standard have no deadline: all open tickets are "not at risk".
    assert tiers.rows == [
        ["Contract", 6, 2, 2, 2],
        ["Paid priority", 2, 2, 0, 0],
        ["Standard", 3, 3, 0, 0],
    ]


def test_headline_totals_the_tiers_the_unassigned_and_the_weeks_hours(
    practice: Any, wednesday: dt.datetime
) -> None:
    section = _build(wednesday)

    # Open 6 + 2 + 3 = 11; unassigned U1, U2, U3; hours 135 + 300 = 435 min = 7.25 h.
    assert section.headline == [
        ("Open tickets", 11),
        ("At risk", 2),
        ("Overdue", 2),
        ("Unassigned", 3),
        ("Hours logged this week", Decimal("7.25")),
    ]


def test_per_consultant_open_at_risk_overdue_and_hours_this_week(
    practice: Any, wednesday: dt.datetime
) -> None:
    people = _build(wednesday).table("consultants")

    # Alice (a manager works tickets too) has nothing; Bob 5 open, B1 at risk, B2 overdue,
    # 90 + 45 = 135 min = 2.25 h; Carol C1 overdue and C2, 300 min = 5.00 h; Frank left (no
    # longer active, no role) but still holds F1. Dave has no role, no tickets, no time.
    assert people.rows == [
        ["Alice", 0, 0, 0, Decimal("0.00")],
        ["Bob", 5, 1, 1, Decimal("2.25")],
        ["Carol", 2, 0, 1, Decimal("5.00")],
        ["Frank", 1, 0, 0, Decimal("0.00")],
    ]
    assert people.caption.endswith("week of Mar 10")


def test_someone_without_a_role_who_logged_time_this_week_is_listed(
    practice: Any, wednesday: dt.datetime, roleless: User
) -> None:
    TimeEntryFactory(ticket=practice.at_risk, consultant=roleless, work_date=MONDAY, minutes=30)

    section = _build(wednesday)

    # Dave holds no ticket and may not work them, but his 30 min (0.50 h) were logged this week;
    # the headline grows from 435 to 465 min = 7.75 h.
    assert ["Dave", 0, 0, 0, Decimal("0.50")] in section.table("consultants").rows
    assert section.headline[4] == ("Hours logged this week", Decimal("7.75"))


def test_charts_stack_the_tiers_and_bar_the_hours(practice: Any, wednesday: dt.datetime) -> None:
    section = _build(wednesday)

    tiers = json.loads(section.table("tiers").chart_config())
    assert tiers["data"]["labels"] == ["Contract", "Paid priority", "Standard"]
    assert [(d["label"], d["stack"], d["data"]) for d in tiers["data"]["datasets"]] == [
        ("Not at risk", "open", [2.0, 2.0, 3.0]),
        ("Overdue", "open", [2.0, 0.0, 0.0]),
        ("At risk", "open", [2.0, 0.0, 0.0]),
    ]
    hours = json.loads(section.table("consultants").chart_config())
    assert hours["data"]["labels"] == ["Alice", "Bob", "Carol", "Frank"]
    assert hours["data"]["datasets"] == [{"label": "Hours this week", "data": [0, 2.25, 5, 0]}]


def _more(count: int, people: dict[str, User]) -> None:
    """`count` more open tickets spread over Bob, Carol and nobody, a third of them contract
    tickets, and `count` time entries."""
    contract = ContractFactory()
    client = ClientFactory()
    owners = [people["bob"], people["carol"], None]
    Ticket.objects.bulk_create(
        (
            Ticket(
                client=contract.client,
                contract=contract,
                subject="more",
                queue_tier=0,
                opened_at=WEDNESDAY - 10 * HOUR,
                response_due_at=WEDNESDAY - 6 * HOUR,
                response_risk_at=WEDNESDAY - 7 * HOUR,
                resolution_due_at=WEDNESDAY + 14 * HOUR,
                resolution_risk_at=WEDNESDAY + 8 * HOUR,
                queue_due_at=WEDNESDAY - 6 * HOUR,
                assignee=owners[n % 3],
            )
            if n % 3 == 0
            else Ticket(client=client, subject="more", assignee=owners[n % 3])
        )
        for n in range(count)
    )
    ticket = Ticket.objects.filter(subject="more").first()
    TimeEntry.objects.bulk_create(
        TimeEntry(
            ticket=ticket,
            consultant=owners[n % 2],
            work_date=MONDAY,
            minutes=1,
            billable_minutes=1,
        )
        for n in range(count)
    )


def test_the_section_takes_three_queries_for_few_or_many_tickets(
    practice: Any, wednesday: dt.datetime, django_assert_num_queries: Any
) -> None:
    # 1 open tickets by tier, 2 open tickets by assignee, 3 the people to name (consultants and
    # whoever else holds open tickets or logged time this week) with their minutes of the week.
    with django_assert_num_queries(3):
        few = _build(wednesday)
    _more(600, practice.people)
    with django_assert_num_queries(3):
        many = _build(wednesday)

    # 600 more: every third (200) an overdue contract ticket held by Bob; 600 minutes = 10 h.
    assert many.headline[0] == ("Open tickets", 11 + 600)
    assert many.headline[2] == ("Overdue", 2 + 200)
    assert many.headline[4] == ("Hours logged this week", Decimal("17.25"))
    # Bob: 1 overdue before, and all 200 contract tickets; 300 of the minutes are his (5 h).
    assert few.table("consultants").rows[1] == ["Bob", 5, 1, 1, Decimal("2.25")]
    assert many.table("consultants").rows[1] == ["Bob", 5 + 200, 1, 1 + 200, Decimal("7.25")]


# --- The page --------------------------------------------------------------------------------
def test_manager_sees_the_section_with_its_tables_and_csv(
    practice: Any, manager_client: HttpClient
) -> None:
    response = manager_client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="workload"' in html
    assert "Queue health and workload" in html
    assert 'id="table-workload-tiers"' in html
    assert 'id="table-workload-consultants"' in html
    assert "/insights/csv/workload/consultants.csv?" in html


def test_the_csv_of_consultants_has_bare_numbers(practice: Any, manager_client: HttpClient) -> None:
    response = manager_client.get(
        reverse("insights:csv", args=["workload", "consultants"]), {"to": "2025-03"}
    )

    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "Consultant,Open,At risk,Overdue,Hours this week",
        "Alice,0,0,0,0.00",
        "Bob,5,1,1,2.25",
        "Carol,2,0,1,5.00",
        "Frank,1,0,0,0.00",
    ]


def test_consultant_is_refused_the_section(practice: Any, consultant_client: HttpClient) -> None:
    assert consultant_client.get(DASHBOARD).status_code == 403
    csv = reverse("insights:csv", args=["workload", "tiers"])
    assert consultant_client.get(csv).status_code == 403


def test_anonymous_visitor_gets_the_login_page(anon_client: HttpClient) -> None:
    csv = reverse("insights:csv", args=["workload", "tiers"])
    for url in (DASHBOARD, csv):
        response = anon_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_page_costs_the_same_queries_with_more_tickets(
    practice: Any, manager_client: HttpClient
) -> None:
    with CaptureQueriesContext(connection) as few:
        assert manager_client.get(DASHBOARD).status_code == 200
    _more(300, practice.people)
    with CaptureQueriesContext(connection) as many:
        assert manager_client.get(DASHBOARD).status_code == 200

    assert len(many) == len(few), [q["sql"] for q in many]
