"""The queue's keyset pages and cursor, places in line, and the query budget of a page."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Charge, ChargeKind
from contracts.models import Priority
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContractFactory,
    ContractTicketFactory,
    PaidPriorityTicketFactory,
    TicketFactory,
)
from tests.tickets.queue_helpers import ANYTHING, contract_ticket_due
from tickets.models import QueueTier, Ticket, TicketStatus
from tickets.queue import PAGE_SIZE, Cursor, QueueFilters, places_in_line, queue_page

pytestmark = pytest.mark.django_db


# --- Keyset pages -----------------------------------------------------------------------------
def _many_tickets() -> list[Ticket]:
    """120 open tickets in all three tiers, with ties in arrival (and deadline) across pages."""
    contract = ContractFactory()
    paid_client, standard_client = ClientFactory(), ClientFactory()
    tickets: list[Ticket] = []
    for n in range(30):  # contract tickets: deadline and arrival shared by threes
        opened = NOW - DAY + (n // 3) * dt.timedelta(minutes=7)
        due = NOW + (n // 3) * HOUR
        tickets.append(
            ContractTicketFactory.build(
                contract=contract,
                opened_at=opened,
                response_due_at=due,
                response_risk_at=due - HOUR,
                resolution_due_at=due + DAY,
                resolution_risk_at=due,
            )
        )
    charges = Charge.objects.bulk_create(
        Charge(
            client=paid_client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal(75), description=""
        )
        for _ in range(30)
    )
    for n, charge in enumerate(charges):  # paid priority: arrival shared by threes
        tickets.append(
            PaidPriorityTicketFactory.build(
                client=paid_client,
                priority_charge=charge,
                opened_at=NOW - 2 * DAY + (n // 3) * HOUR,
            )
        )
    for n in range(60):  # standard: arrival shared by sixes
        tickets.append(
            TicketFactory.build(client=standard_client, opened_at=NOW - 3 * DAY + (n // 6) * HOUR)
        )
    # Insert in a scrambled order so that ids do not follow the queue.
    scrambled = tickets[::2] + tickets[1::2]
    return Ticket.objects.bulk_create(scrambled)


def _expected_line(tickets: list[Ticket]) -> list[int]:
    """The queue order worked out in Python from the rule, not from the code under test."""
    return [
        t.pk
        for t in sorted(
            tickets, key=lambda t: (t.queue_tier, t.queue_due_at or NOW, t.opened_at, t.pk)
        )
    ]


def _walk(user: User, filters: QueueFilters = ANYTHING) -> list[list[tuple[int, int | None]]]:
    """Follow "show more" to the end; return each page's (pk, place) rows."""
    pages = []
    after = None
    while True:
        page = queue_page(filters, user, after)
        pages.append([(row.pk, row.place) for row in page.rows])
        if page.next_cursor is None:
            return pages
        after = Cursor.decode(page.next_cursor)


def test_pages_neither_overlap_nor_skip_even_where_arrival_times_tie(
    now: dt.datetime, consultant: User
) -> None:
    expected = _expected_line(_many_tickets())
    by_pk = Ticket.objects.in_bulk()
    # The page boundaries fall inside groups of tickets that arrived at the same moment.
    for boundary in (PAGE_SIZE, 2 * PAGE_SIZE):
        assert by_pk[expected[boundary - 1]].opened_at == by_pk[expected[boundary]].opened_at

    pages = _walk(consultant)

    assert [len(p) for p in pages] == [50, 50, 20]
    rows = list(itertools.chain.from_iterable(pages))
    assert [pk for pk, _ in rows] == expected
    assert [place for _, place in rows] == list(range(1, 121))


def test_filtered_pages_continue_in_order_and_show_places_in_the_whole_line(
    now: dt.datetime, consultant: User
) -> None:
    tickets = _many_tickets()
    expected = _expected_line(tickets)
    tiers = {t.pk: t.queue_tier for t in tickets}
    standard = [pk for pk in expected if tiers[pk] == QueueTier.STANDARD]

    pages = _walk(consultant, QueueFilters(tier=QueueTier.STANDARD))

    assert [len(p) for p in pages] == [50, 10]
    rows = list(itertools.chain.from_iterable(pages))
    assert [pk for pk, _ in rows] == standard
    # The 60 standard tickets wait behind the 60 contract and paid ones: places 61 to 120.
    assert [place for _, place in rows] == [expected.index(pk) + 1 for pk in standard]
    assert rows[0][1] == 61


@pytest.mark.parametrize(
    "cursor",
    [
        Cursor(key=(0, NOW + dt.timedelta(microseconds=7), NOW - DAY, 12), shown=50),
        Cursor(key=(2, None, dt.datetime(1999, 12, 31, 23, 59, 59, 999999, dt.UTC), 1), shown=0),
    ],
)  # fmt: skip
def test_cursor_survives_the_round_trip_through_the_url(cursor: Cursor) -> None:
    assert Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "garbage",
        "0~-~0~1",  # a part missing
        "0~-~0~1~0~9",  # a part too many
        "x~-~0~1~0",
        "0~soon~0~1~0",
        "7~-~0~1~0",  # no such tier
        "0~-~0~0~0",  # no such id
        "0~-~-~1~0",  # no arrival time
        "0~-~0~1~-1",  # a negative count shown
        "0~-~0~1~100000000",  # more rows shown than can exist
        "0~99999999999999999999~0~1~0",  # a deadline past the end of the calendar
        "0~-~-99999999999999999999~1~0",  # an arrival before year 1
    ],
)
def test_cursor_rejects_garbage_with_value_error(raw: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the view catches exactly ValueError)
        Cursor.decode(raw)


# --- Places in line ---------------------------------------------------------------------------
def test_places_in_line_unfiltered_are_positions_on_the_page(
    now: dt.datetime, consultant: User
) -> None:
    ContractTicketFactory()
    PaidPriorityTicketFactory()
    TicketFactory()

    rows = queue_page(ANYTHING, consultant).rows

    assert [r.place for r in rows] == [1, 2, 3]
    assert rows[2].due_text == "no guarantee · #3 in line"


def test_places_in_line_filtered_count_every_ticket_ahead(
    now: dt.datetime, consultant: User
) -> None:
    contract_ticket_due(HOUR, priority=Priority.LOW)  # 1st in line
    contract_high = contract_ticket_due(2 * HOUR, priority=Priority.HIGH)  # 2nd
    paid_high = PaidPriorityTicketFactory(priority=Priority.HIGH, opened_at=NOW - HOUR)  # 3rd
    TicketFactory(priority=Priority.LOW, opened_at=NOW - 3 * HOUR)  # 4th
    TicketFactory(status=TicketStatus.WAITING_ON_CLIENT, opened_at=NOW - 4 * DAY)  # not in line
    high = TicketFactory(priority=Priority.HIGH, opened_at=NOW - 2 * HOUR)  # 5th

    rows = queue_page(QueueFilters(priority=Priority.HIGH), consultant).rows

    # A contract ticket shows its deadline rather than a place.
    assert [(r.pk, r.place) for r in rows] == [
        (contract_high.pk, None),
        (paid_high.pk, 3),
        (high.pk, 5),
    ]
    assert rows[2].due_text == "no guarantee · #5 in line"


def test_places_query_ranks_tickets_in_the_whole_working_line(now: dt.datetime) -> None:
    contract = contract_ticket_due(HOUR)
    standard = TicketFactory(opened_at=NOW - DAY)
    waiting = TicketFactory(status=TicketStatus.WAITING_ON_CLIENT, opened_at=NOW - 2 * DAY)
    paid = PaidPriorityTicketFactory(opened_at=NOW)

    places = places_in_line([contract.pk, standard.pk, waiting.pk, paid.pk])

    assert places == {contract.pk: 1, paid.pk: 2, standard.pk: 3}
    assert places_in_line([]) == {}


def test_waiting_view_shows_no_places(now: dt.datetime, consultant: User) -> None:
    TicketFactory(status=TicketStatus.WAITING_ON_CLIENT)

    rows = queue_page(QueueFilters(waiting=True), consultant).rows

    assert [r.place for r in rows] == [None]


# --- Query budget -----------------------------------------------------------------------------
def test_queue_page_reads_the_line_in_one_query_and_places_in_one_more(
    now: dt.datetime, consultant: User, django_assert_num_queries: Any
) -> None:
    ContractTicketFactory(assignee=consultant)
    PaidPriorityTicketFactory()
    TicketFactory.create_batch(3)

    # Unfiltered: one read of the line with client and assignee joined; places are positions.
    with django_assert_num_queries(1):
        queue_page(ANYTHING, consultant)
    # Filtered: the rows, then one ranked read for their places in the whole line.
    with django_assert_num_queries(2):
        queue_page(QueueFilters(priority=Priority.NORMAL), consultant)
    # Waiting tickets are outside the line and have no place: the rows alone.
    with django_assert_num_queries(1):
        queue_page(QueueFilters(waiting=True), consultant)


def _bulk_tickets(count: int, assignee: User) -> None:
    """`count` open tickets across the three tiers, some assigned, written in three inserts."""
    contract = ContractFactory()
    standard_client = ClientFactory()
    paid = count // 5
    charges = Charge.objects.bulk_create(
        Charge(client=standard_client, kind=ChargeKind.PAID_PRIORITY, amount=75, description="")
        for _ in range(paid)
    )
    tickets: list[Ticket] = []
    for n in range(count):
        opened = NOW - dt.timedelta(minutes=n)
        who = assignee if n % 4 == 0 else None
        if n % 5 == 0:
            tickets.append(
                PaidPriorityTicketFactory.build(
                    client=standard_client,
                    priority_charge=charges.pop(),
                    opened_at=opened,
                    assignee=who,
                )
            )
        elif n % 5 in (1, 2):
            tickets.append(
                ContractTicketFactory.build(contract=contract, opened_at=opened, assignee=who)
            )
        else:
            tickets.append(
                TicketFactory.build(client=standard_client, opened_at=opened, assignee=who)
            )
    Ticket.objects.bulk_create(tickets)


def test_queue_page_costs_the_same_queries_for_ten_or_a_thousand_tickets(
    now: dt.datetime, consultant: User, consultant_client: Any, other_consultant: User
) -> None:
    url = reverse("tickets:queue")
    _bulk_tickets(10, other_consultant)
    with CaptureQueriesContext(connection) as ten:
        response = consultant_client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 10

    _bulk_tickets(990, other_consultant)
    with CaptureQueriesContext(connection) as thousand:
        response = consultant_client.get(url)
    assert response.status_code == 200
    assert len(response.context["page"].rows) == PAGE_SIZE

    assert len(thousand) == len(ten), [q["sql"] for q in thousand]
    # 1 the session, 2 the user, 3-4 the user's own and group permissions (may they work
    # tickets?), 5 the consultants for the assignee filter, 6 one page of the line with client
    # and assignee joined, 7-8 the panel above the queue (issue 13): one aggregate of the
    # consultant's own open tickets, one of their time logged this week. Nothing per row,
    # nothing counts the line.
    assert len(thousand) == 8, [q["sql"] for q in thousand]


def test_htmx_refresh_returns_only_the_queue_table(
    now: dt.datetime, consultant_client: Any
) -> None:
    ticket = TicketFactory(subject="Fax machine haunted")

    response = consultant_client.get(reverse("tickets:queue"), HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="queue-table"')
    assert "Fax machine haunted" in html
    assert f'href="/tickets/{ticket.pk}/"' in html
    assert "<html" not in html
    assert 'id="queue-filters"' not in html
    assert "Take next ticket" not in html


def test_htmx_show_more_returns_only_the_next_rows(
    now: dt.datetime, consultant: User, consultant_client: Any
) -> None:
    TicketFactory.create_batch(PAGE_SIZE + 2)
    cursor = queue_page(ANYTHING, consultant).next_cursor
    assert cursor is not None

    response = consultant_client.get(
        reverse("tickets:queue"), {"after": cursor}, HTTP_HX_REQUEST="true"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<tr") == 2
    assert 'id="queue-table"' not in html
    assert "#51 in line" in html
    assert "#52 in line" in html
