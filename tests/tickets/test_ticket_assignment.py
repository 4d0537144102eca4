"""Who works a ticket: taking the next one in line, and assigning it to a colleague."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from tests.conftest import HOUR, NOW
from tests.factories import ContractTicketFactory, TicketFactory
from tickets.models import Ticket, TicketEvent, TicketEventKind, TicketStatus
from tickets.services import ticket_assign, ticket_take_next

pytestmark = pytest.mark.django_db


# --- ticket_take_next -------------------------------------------------------------------------
def test_take_next_claims_the_top_unassigned_ticket(now: dt.datetime, consultant: User) -> None:
    TicketFactory(opened_at=NOW - 5 * HOUR)
    first_in_line = ContractTicketFactory(opened_at=NOW - HOUR)

    taken = ticket_take_next(consultant=consultant)

    assert taken == first_in_line
    taken.refresh_from_db()
    assert taken.assignee == consultant
    assert taken.status == TicketStatus.IN_PROGRESS
    event = taken.events.get()
    assert event.kind == TicketEventKind.ASSIGNMENT
    assert event.actor == consultant
    assert event.to_value == "Bob"  # the name colleagues know, not the login


def test_take_next_skips_tickets_already_assigned(
    now: dt.datetime, consultant: User, other_consultant: User
) -> None:
    ContractTicketFactory(opened_at=NOW - HOUR, assignee=other_consultant)
    unassigned = TicketFactory(opened_at=NOW - 5 * HOUR)

    assert ticket_take_next(consultant=consultant) == unassigned


def test_take_next_skips_tickets_waiting_on_the_client(now: dt.datetime, consultant: User) -> None:
    TicketFactory(opened_at=NOW - 5 * HOUR, status=TicketStatus.WAITING_ON_CLIENT)
    waiting_in_line = TicketFactory(opened_at=NOW - HOUR)

    assert ticket_take_next(consultant=consultant) == waiting_in_line


def test_take_next_returns_none_when_nobody_waits(now: dt.datetime, consultant: User) -> None:
    TicketFactory(status=TicketStatus.RESOLVED, resolved_at=NOW)

    assert ticket_take_next(consultant=consultant) is None
    assert not TicketEvent.objects.exists()


def test_take_next_keeps_an_unassigned_in_progress_ticket_in_progress(
    now: dt.datetime, consultant: User
) -> None:
    ticket = TicketFactory(status=TicketStatus.IN_PROGRESS)

    taken = ticket_take_next(consultant=consultant)

    assert taken == ticket
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.IN_PROGRESS


# --- ticket_assign ----------------------------------------------------------------------------
def test_assigning_records_who_had_it_and_who_has_it_now(
    now: dt.datetime, consultant: User, other_consultant: User, manager: User
) -> None:
    ticket = TicketFactory(assignee=consultant)

    ticket_assign(ticket=ticket, assignee=other_consultant, actor=manager)

    ticket.refresh_from_db()
    assert ticket.assignee == other_consultant
    event = ticket.events.get()
    assert (event.kind, event.actor, event.from_value, event.to_value) == (
        TicketEventKind.ASSIGNMENT,
        manager,
        "Bob",
        "Carol",
    )


def test_assigning_to_the_current_assignee_logs_nothing(now: dt.datetime, consultant: User) -> None:
    ticket = TicketFactory(assignee=consultant)

    ticket_assign(ticket=ticket, assignee=consultant, actor=consultant)

    assert not TicketEvent.objects.exists()


def test_unassigning_clears_the_assignee(now: dt.datetime, consultant: User) -> None:
    ticket = TicketFactory(assignee=consultant)

    ticket_assign(ticket=ticket, assignee=None, actor=consultant)

    assert Ticket.objects.get(pk=ticket.pk).assignee is None
    assert ticket.events.get().to_value == ""


def test_a_colleague_with_a_very_long_name_is_named_in_the_activity_cut_to_fit(
    now: dt.datetime, manager: User
) -> None:
    # TicketEvent's from/to values are 64 characters; PostgreSQL would refuse a longer one.
    ticket = TicketFactory()
    long_named = User.objects.create_user("longname", first_name="A" * 150, last_name="B" * 150)

    ticket_assign(ticket=ticket, assignee=long_named, actor=manager)

    event = ticket.events.get()
    assert event.to_value == ("A" * 150)[:64]
