"""A ticket's status: the allowed changes, and the SLA clock paused while waiting on the client."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import HOUR, NOW
from tests.factories import ContractFactory, TicketFactory
from tests.tickets.service_helpers import S, ticket_in
from tickets.models import Ticket, TicketEvent, TicketEventKind
from tickets.services import TicketError, ticket_change_status, ticket_open

pytestmark = pytest.mark.django_db


# --- ticket_change_status ---------------------------------------------------------------------
# The workflow, written out here rather than read from TRANSITIONS, so the test states the rule.
ALLOWED = {
    (S.NEW, S.IN_PROGRESS),
    (S.NEW, S.WAITING_ON_CLIENT),
    (S.NEW, S.RESOLVED),
    (S.IN_PROGRESS, S.WAITING_ON_CLIENT),
    (S.IN_PROGRESS, S.RESOLVED),
    (S.WAITING_ON_CLIENT, S.IN_PROGRESS),
    (S.WAITING_ON_CLIENT, S.RESOLVED),
    (S.RESOLVED, S.CLOSED),
    (S.RESOLVED, S.IN_PROGRESS),
}
PAIRS = [(a, b) for a in S for b in S if a != b]


@pytest.mark.parametrize(("before", "after"), sorted(p for p in PAIRS if p in ALLOWED))
def test_allowed_status_change_is_made_and_logged(
    now: dt.datetime, consultant: User, before: str, after: str
) -> None:
    ticket = ticket_in(before)

    ticket_change_status(ticket=ticket, status=after, actor=consultant, note=" why ")

    assert Ticket.objects.get(pk=ticket.pk).status == after
    event = ticket.events.get()
    assert (event.kind, event.from_value, event.to_value, event.body, event.actor) == (
        TicketEventKind.STATUS,
        before,
        after,
        "why",
        consultant,
    )


@pytest.mark.parametrize(("before", "after"), sorted(p for p in PAIRS if p not in ALLOWED))
def test_forbidden_status_change_is_refused_and_changes_nothing(
    now: dt.datetime, consultant: User, before: str, after: str
) -> None:
    ticket = ticket_in(before)
    stored = Ticket.objects.filter(pk=ticket.pk).values().get()

    with pytest.raises(TicketError, match="cannot become"):
        ticket_change_status(ticket=ticket, status=after, actor=consultant)

    assert Ticket.objects.filter(pk=ticket.pk).values().get() == stored
    assert not TicketEvent.objects.exists()


def test_waiting_on_the_client_pauses_the_sla_clock(
    now: dt.datetime, contract: Any, consultant: User
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    ticket_change_status(ticket=ticket, status=S.WAITING_ON_CLIENT, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.sla_paused_at == NOW
    assert ticket.is_paused


def test_resuming_shifts_the_deadlines_by_the_time_spent_waiting(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")  # normal: 4h / 24h
    time_machine.move_to(NOW + HOUR, tick=False)
    ticket_change_status(ticket=ticket, status=S.WAITING_ON_CLIENT, actor=consultant)
    time_machine.move_to(NOW + 4 * HOUR, tick=False)  # three hours waiting on the client

    ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.response_due_at == NOW + 7 * HOUR
    assert ticket.resolution_due_at == NOW + 27 * HOUR
    assert ticket.response_risk_at == NOW + 6 * HOUR
    assert ticket.resolution_risk_at == NOW + 21 * HOUR
    assert ticket.queue_due_at == ticket.response_due_at


def test_resuming_in_business_hours_counts_only_covered_time_spent_waiting(
    consultant: User, time_machine: Any
) -> None:
    contract = ContractFactory()  # office hours 08:00-18:00 New York, Monday to Friday
    friday_4pm = dt.datetime(2025, 3, 14, 20, 0, tzinfo=dt.UTC)
    time_machine.move_to(friday_4pm, tick=False)
    ticket = ticket_open(client=contract.client, subject="Slow network")  # 4h to respond
    assert ticket.response_due_at == dt.datetime(2025, 3, 17, 14, 0, tzinfo=dt.UTC)  # Mon 10:00
    time_machine.move_to(friday_4pm + HOUR, tick=False)
    ticket_change_status(ticket=ticket, status=S.WAITING_ON_CLIENT, actor=consultant)
    # Back Monday 09:00: of the weekend's wait only Fri 17-18 and Mon 08-09 were office hours.
    time_machine.move_to(dt.datetime(2025, 3, 17, 13, 0, tzinfo=dt.UTC), tick=False)

    ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.response_due_at == dt.datetime(2025, 3, 17, 16, 0, tzinfo=dt.UTC)  # Mon 12:00


def test_waiting_after_a_deadline_passed_does_not_undo_the_breach(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    time_machine.move_to(NOW + 5 * HOUR, tick=False)  # response was due at NOW + 4h
    ticket_change_status(ticket=ticket, status=S.WAITING_ON_CLIENT, actor=consultant)
    time_machine.move_to(NOW + 8 * HOUR, tick=False)

    ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.response_due_at == NOW + 4 * HOUR
    assert ticket.resolution_due_at == NOW + 27 * HOUR
    assert ticket.is_breached(NOW + 8 * HOUR)


def test_resolving_a_waiting_ticket_stops_the_pause(
    now: dt.datetime, contract: Any, consultant: User
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    ticket_change_status(ticket=ticket, status=S.WAITING_ON_CLIENT, actor=consultant)

    ticket_change_status(ticket=ticket, status=S.RESOLVED, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.resolved_at == NOW


def test_resolving_sets_resolved_at_and_reopening_clears_it(
    now: dt.datetime, consultant: User, time_machine: Any
) -> None:
    ticket = TicketFactory(status=S.IN_PROGRESS)

    ticket_change_status(ticket=ticket, status=S.RESOLVED, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).resolved_at == NOW

    time_machine.move_to(NOW + HOUR, tick=False)
    ticket_change_status(ticket=ticket, status=S.IN_PROGRESS, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).resolved_at is None


def test_closing_sets_closed_at_and_a_closed_ticket_cannot_change(
    now: dt.datetime, consultant: User
) -> None:
    ticket = ticket_in(S.RESOLVED)
    ticket_change_status(ticket=ticket, status=S.CLOSED, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).closed_at == NOW

    for status in (S.NEW, S.IN_PROGRESS, S.WAITING_ON_CLIENT, S.RESOLVED):
        with pytest.raises(TicketError):
            ticket_change_status(ticket=ticket, status=status, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).status == S.CLOSED
