"""The queue's order by tier, deadline and arrival, and its filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from contracts.models import Priority
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContractTicketFactory,
    PaidPriorityTicketFactory,
    TicketFactory,
)
from tests.tickets.queue_helpers import ANYTHING, contract_ticket_due
from tickets.models import QueueTier, Ticket, TicketStatus
from tickets.queue import QueueFilters, queue_page, queue_tickets

pytestmark = pytest.mark.django_db


def _line(user: User, filters: QueueFilters = ANYTHING) -> list[Ticket]:
    """The first page of the queue, as tickets (the rows carry only their pk)."""
    by_pk = Ticket.objects.in_bulk()
    return [by_pk[row.pk] for row in queue_page(filters, user).rows]


# --- Order ------------------------------------------------------------------------------------
def test_contract_ticket_is_served_before_older_transactional_ticket(
    now: dt.datetime, consultant: User
) -> None:
    standard = TicketFactory(opened_at=NOW - 3 * DAY)
    paid = PaidPriorityTicketFactory(opened_at=NOW - 2 * DAY)
    contract = ContractTicketFactory(opened_at=NOW)

    assert _line(consultant) == [contract, paid, standard]


def test_contract_tickets_are_served_by_deadline_overdue_first(
    now: dt.datetime, consultant: User
) -> None:
    later = contract_ticket_due(2 * HOUR, opened_at=NOW - 3 * HOUR)
    overdue = contract_ticket_due(-HOUR, opened_at=NOW - HOUR)
    sooner = contract_ticket_due(HOUR / 2, opened_at=NOW - 2 * HOUR)

    assert _line(consultant) == [overdue, sooner, later]


def test_contract_tickets_due_at_the_same_moment_are_served_first_come(
    now: dt.datetime, consultant: User
) -> None:
    newer = contract_ticket_due(HOUR, opened_at=NOW - HOUR)
    older = contract_ticket_due(HOUR, opened_at=NOW - 2 * HOUR)

    assert _line(consultant) == [older, newer]


def test_paid_priority_tickets_come_after_contract_tickets_oldest_first(
    now: dt.datetime, consultant: User
) -> None:
    newer_paid = PaidPriorityTicketFactory(opened_at=NOW - HOUR)
    older_paid = PaidPriorityTicketFactory(opened_at=NOW - 2 * HOUR)
    standard = TicketFactory(opened_at=NOW - 5 * DAY)

    assert _line(consultant) == [older_paid, newer_paid, standard]


def test_paid_priority_is_never_served_ahead_of_a_contract_ticket(
    now: dt.datetime, consultant: User
) -> None:
    paid = PaidPriorityTicketFactory(opened_at=NOW - 7 * DAY)
    relaxed_contract = contract_ticket_due(3 * DAY, opened_at=NOW)

    assert _line(consultant) == [relaxed_contract, paid]


def test_standard_tickets_are_first_come_first_served(now: dt.datetime, consultant: User) -> None:
    third = TicketFactory(opened_at=NOW - HOUR)
    first = TicketFactory(opened_at=NOW - 3 * HOUR)
    second = TicketFactory(opened_at=NOW - 2 * HOUR)
    # Same arrival to the microsecond: the lower id was saved first.
    tied = TicketFactory(opened_at=NOW - HOUR)

    assert _line(consultant) == [first, second, third, tied]


def test_waiting_on_client_tickets_are_not_in_the_working_line(
    now: dt.datetime, consultant: User
) -> None:
    waiting = contract_ticket_due(-HOUR, status=TicketStatus.WAITING_ON_CLIENT, sla_paused_at=NOW)
    working = TicketFactory(status=TicketStatus.IN_PROGRESS)

    assert _line(consultant) == [working]
    assert _line(consultant, QueueFilters(waiting=True)) == [waiting]


@pytest.mark.parametrize("status", [TicketStatus.RESOLVED, TicketStatus.CLOSED])
def test_resolved_and_closed_tickets_are_not_shown(
    now: dt.datetime, consultant: User, status: str
) -> None:
    contract_ticket_due(-HOUR, status=status, resolved_at=NOW, closed_at=NOW)

    assert _line(consultant) == []
    assert _line(consultant, QueueFilters(waiting=True)) == []


# --- Filters ----------------------------------------------------------------------------------
def test_priority_filter(now: dt.datetime, consultant: User) -> None:
    urgent = TicketFactory(priority=Priority.URGENT)
    TicketFactory(priority=Priority.LOW)

    assert _line(consultant, QueueFilters(priority=Priority.URGENT)) == [urgent]


def test_tier_filter(now: dt.datetime, consultant: User) -> None:
    contract = ContractTicketFactory()
    paid = PaidPriorityTicketFactory()
    standard = TicketFactory()

    assert _line(consultant, QueueFilters(tier=QueueTier.CONTRACT)) == [contract]
    assert _line(consultant, QueueFilters(tier=QueueTier.PAID_PRIORITY)) == [paid]
    assert _line(consultant, QueueFilters(tier=QueueTier.STANDARD)) == [standard]


def test_assignee_filter_mine_unassigned_and_by_person(
    now: dt.datetime, consultant: User, other_consultant: User
) -> None:
    mine = TicketFactory(assignee=consultant, opened_at=NOW - 3 * HOUR)
    carols = TicketFactory(assignee=other_consultant, opened_at=NOW - 2 * HOUR)
    nobodys = TicketFactory(opened_at=NOW - HOUR)

    assert _line(consultant, QueueFilters(assignee="me")) == [mine]
    assert _line(other_consultant, QueueFilters(assignee="me")) == [carols]
    assert _line(consultant, QueueFilters(assignee="none")) == [nobodys]
    assert _line(consultant, QueueFilters(assignee=str(other_consultant.pk))) == [carols]


def test_search_matches_subject_client_name_and_ticket_number(
    now: dt.datetime, consultant: User
) -> None:
    toner = TicketFactory(subject="Toner smeared", opened_at=NOW - 3 * HOUR)
    acme = TicketFactory(
        client=ClientFactory(name="Acme Dental"), subject="Scanner", opened_at=NOW - 2 * HOUR
    )
    other = TicketFactory(subject="Email bounces", opened_at=NOW - HOUR)

    assert _line(consultant, QueueFilters(q="toner")) == [toner]
    assert _line(consultant, QueueFilters(q="ACME")) == [acme]
    assert _line(consultant, QueueFilters(q=f"#{other.pk}")) == [other]
    assert other in _line(consultant, QueueFilters(q=str(other.pk)))
    assert _line(consultant, QueueFilters(q="nothing like it")) == []


def test_waiting_filter_lists_waiting_tickets_in_queue_order(
    now: dt.datetime, consultant: User
) -> None:
    newer = TicketFactory(status=TicketStatus.WAITING_ON_CLIENT, opened_at=NOW - HOUR)
    older = TicketFactory(status=TicketStatus.WAITING_ON_CLIENT, opened_at=NOW - 2 * HOUR)
    TicketFactory()

    assert _line(consultant, QueueFilters(waiting=True)) == [older, newer]


def test_filters_combine(now: dt.datetime, consultant: User) -> None:
    wanted = TicketFactory(priority=Priority.HIGH, assignee=consultant, subject="Disk full")
    TicketFactory(priority=Priority.HIGH, subject="Disk full")
    TicketFactory(priority=Priority.LOW, assignee=consultant, subject="Disk full")

    filters = QueueFilters(priority=Priority.HIGH, assignee="me", q="disk")
    assert _line(consultant, filters) == [wanted]


def test_queue_tickets_is_the_filtered_line_in_queue_order(
    now: dt.datetime, consultant: User
) -> None:
    standard = TicketFactory(opened_at=NOW - DAY)
    contract = ContractTicketFactory()

    assert list(queue_tickets(ANYTHING, consultant)) == [contract, standard]
