"""The ticket services: open, buy priority, take next, assign, status, reply, note, log time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from clients.models import Charge, ChargeKind, ClientStatus
from contracts.models import Coverage, Priority, risk_point
from contracts.sla import add_covered_minutes, add_covered_time
from tests.conftest import HOUR, NOW, TODAY
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    EndedContractFactory,
    PaidPriorityTicketFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import (
    QueueTier,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    TimeEntry,
)
from tickets.services import (
    TicketError,
    ticket_add_note,
    ticket_assign,
    ticket_buy_priority,
    ticket_change_status,
    ticket_open,
    ticket_reply,
    ticket_take_next,
    time_log,
)

pytestmark = pytest.mark.django_db

# Monday 10:00 in New York (EDT): inside the test calendar's 08:00-18:00 office hours.


@pytest.fixture
def always_plan() -> Any:
    """A 24x7 plan: every hour counts, so deadline arithmetic is plain addition."""
    return PlanFactory(coverage=Coverage.ALWAYS, included_hours=Decimal("4.00"))


@pytest.fixture
def contract(always_plan: Any) -> Any:
    contract = ContractFactory(plan=always_plan)
    ContactFactory(client=contract.client)
    return contract


def _counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        TimeEntry.objects.count(),
        Charge.objects.count(),
    )


def _kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("id").values_list("kind", flat=True))


# --- ticket_open ------------------------------------------------------------------------------
def test_contract_client_ticket_gets_contract_tier_and_plan_deadlines(now: dt.datetime) -> None:
    plan = PlanFactory()  # business hours, America/New_York 08:00-18:00
    contract = ContractFactory(plan=plan)
    contact = ContactFactory(client=contract.client)

    ticket = ticket_open(client=contract.client, subject="  Mail server down ", priority="high")

    ticket.refresh_from_db()
    assert ticket.queue_tier == QueueTier.CONTRACT
    assert ticket.contract == contract
    assert ticket.contact == contact  # the primary contact when none is given
    assert ticket.subject == "Mail server down"
    level = plan.service_levels.get(priority=Priority.HIGH)
    hours = plan.calendar.working_hours()
    assert ticket.response_due_at == add_covered_minutes(NOW, level.response_minutes, hours)
    assert ticket.resolution_due_at == add_covered_minutes(NOW, level.resolution_minutes, hours)
    assert ticket.response_risk_at == add_covered_time(
        NOW, risk_point(level.response_minutes), hours
    )
    assert ticket.resolution_risk_at == add_covered_time(
        NOW, risk_point(level.resolution_minutes), hours
    )
    # The same, by hand: high is 2h to respond and 8h to resolve, opened at noon EDT on a
    # Monday; the office closes at 18:00, so resolution runs 6h today and 2h on Tuesday.
    assert ticket.response_due_at == dt.datetime(2025, 3, 10, 18, 0, tzinfo=dt.UTC)  # 14:00 EDT
    assert ticket.resolution_due_at == dt.datetime(2025, 3, 11, 14, 0, tzinfo=dt.UTC)  # Tue 10:00
    assert ticket.queue_due_at == ticket.response_due_at
    assert _kinds(ticket) == [TicketEventKind.OPENED]


def test_contract_deadline_rolls_over_closed_hours(time_machine: Any) -> None:
    # Friday 17:00 EDT: one office hour left this week, so a 4h response is due Monday 11:00.
    time_machine.move_to(dt.datetime(2025, 3, 14, 21, 0, tzinfo=dt.UTC), tick=False)
    contract = ContractFactory()

    ticket = ticket_open(client=contract.client, subject="VPN down", priority="normal")

    assert ticket.response_due_at == dt.datetime(2025, 3, 17, 15, 0, tzinfo=dt.UTC)


def test_transactional_client_ticket_is_standard_with_no_deadlines(now: dt.datetime) -> None:
    client = ClientFactory()
    ContractFactory()  # another client's contract must not leak into this ticket

    ticket = ticket_open(client=client, subject="Printer jams")

    ticket.refresh_from_db()
    assert ticket.queue_tier == QueueTier.STANDARD
    assert ticket.contract is None
    assert ticket.response_due_at is None
    assert ticket.resolution_due_at is None
    assert ticket.queue_due_at is None
    assert not ticket.paid_priority


def test_ended_contract_does_not_make_a_contract_ticket(now: dt.datetime) -> None:
    ended = EndedContractFactory()

    ticket = ticket_open(client=ended.client, subject="Laptop will not boot")

    assert ticket.queue_tier == QueueTier.STANDARD


def test_paid_priority_posts_the_surcharge_and_moves_the_ticket_up_a_tier(
    now: dt.datetime, settings: Any, consultant: User
) -> None:
    settings.PAID_PRIORITY_SURCHARGE = Decimal("80.00")
    client = ClientFactory()

    ticket = ticket_open(client=client, subject="Urgent", paid_priority=True, opened_by=consultant)

    ticket.refresh_from_db()
    charge = Charge.objects.get()
    assert charge.client == client
    assert charge.kind == ChargeKind.PAID_PRIORITY
    assert charge.amount == Decimal("80.00")
    assert charge.created_by == consultant
    assert ticket.priority_charge == charge
    assert ticket.paid_priority
    assert ticket.queue_tier == QueueTier.PAID_PRIORITY
    assert ticket.queue_due_at is None
    assert _kinds(ticket) == [TicketEventKind.OPENED, TicketEventKind.PAID_PRIORITY]


def test_paid_priority_for_a_contract_client_is_refused_and_writes_nothing(
    now: dt.datetime, contract: Any
) -> None:
    before = _counts()

    with pytest.raises(TicketError, match="on a contract"):
        ticket_open(client=contract.client, subject="Please hurry", paid_priority=True)

    assert _counts() == before


def test_dropped_client_cannot_open_a_ticket(now: dt.datetime) -> None:
    client = ClientFactory(status=ClientStatus.DROPPED, dropped_at=NOW - HOUR)

    with pytest.raises(TicketError, match="dropped"):
        ticket_open(client=client, subject="Still broken")

    assert not Ticket.objects.exists()


def test_contact_of_another_client_is_refused(now: dt.datetime) -> None:
    client = ClientFactory()
    stranger = ContactFactory()

    with pytest.raises(TicketError, match="another client"):
        ticket_open(client=client, subject="Help", contact=stranger)

    assert not Ticket.objects.exists()


def test_acknowledgement_is_emailed_to_the_contact_after_commit(
    now: dt.datetime,
    contract: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    contact = contract.client.contacts.get()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket = ticket_open(client=contract.client, subject="Backups failing")
        assert mailoutbox == []  # nothing leaves before the transaction commits

    assert len(callbacks) == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [contact.email]
    assert message.subject == f"[#{ticket.pk}] We received your request: Backups failing"
    # A contract client is told when the first response is due.
    assert "guarantees a first response" in message.body


def test_no_acknowledgement_when_the_client_has_no_contact(
    now: dt.datetime, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ticket_open(client=ClientFactory(), subject="Printer jams")

    assert callbacks == []
    assert mailoutbox == []


# --- ticket_buy_priority ----------------------------------------------------------------------
def test_buying_priority_later_charges_and_moves_ticket_to_the_paid_tier(
    now: dt.datetime, consultant: User, settings: Any
) -> None:
    ticket = TicketFactory()

    ticket_buy_priority(ticket=ticket, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.queue_tier == QueueTier.PAID_PRIORITY
    assert ticket.priority_charge.amount == settings.PAID_PRIORITY_SURCHARGE
    assert _kinds(ticket) == [TicketEventKind.PAID_PRIORITY]


def test_buying_priority_twice_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = PaidPriorityTicketFactory()

    with pytest.raises(TicketError, match="already bought"):
        ticket_buy_priority(ticket=ticket, actor=consultant)

    assert Charge.objects.count() == 1


def test_contract_ticket_cannot_buy_priority(now: dt.datetime, consultant: User) -> None:
    ticket = ContractTicketFactory()

    with pytest.raises(TicketError, match="served first already"):
        ticket_buy_priority(ticket=ticket, actor=consultant)

    assert not Charge.objects.exists()


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


# --- ticket_change_status ---------------------------------------------------------------------
S = TicketStatus
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


def _ticket_in(status: str, **fields: Any) -> Ticket:
    return TicketFactory(
        **fields,
        status=status,
        resolved_at=NOW - HOUR if status in (S.RESOLVED, S.CLOSED) else None,
        closed_at=NOW - HOUR if status == S.CLOSED else None,
    )


@pytest.mark.parametrize(("before", "after"), sorted(p for p in PAIRS if p in ALLOWED))
def test_allowed_status_change_is_made_and_logged(
    now: dt.datetime, consultant: User, before: str, after: str
) -> None:
    ticket = _ticket_in(before)

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
    ticket = _ticket_in(before)
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
    ticket = _ticket_in(S.RESOLVED)
    ticket_change_status(ticket=ticket, status=S.CLOSED, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).closed_at == NOW

    for status in (S.NEW, S.IN_PROGRESS, S.WAITING_ON_CLIENT, S.RESOLVED):
        with pytest.raises(TicketError):
            ticket_change_status(ticket=ticket, status=status, actor=consultant)
    assert Ticket.objects.get(pk=ticket.pk).status == S.CLOSED


# --- ticket_reply and ticket_add_note ---------------------------------------------------------
def test_first_reply_is_the_first_response(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    time_machine.move_to(NOW + HOUR, tick=False)

    event = ticket_reply(ticket=ticket, body="  Looking at it now. ", actor=consultant)

    ticket.refresh_from_db()
    assert ticket.first_response_at == NOW + HOUR
    assert ticket.queue_due_at == ticket.resolution_due_at  # the queue now sorts by resolution
    assert ticket.status == S.IN_PROGRESS
    assert (event.kind, event.body, event.actor) == (
        TicketEventKind.REPLY,
        "Looking at it now.",
        consultant,
    )


def test_a_later_reply_keeps_the_first_response_time(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    ticket_reply(ticket=ticket, body="First", actor=consultant)
    time_machine.move_to(NOW + HOUR, tick=False)

    ticket_reply(ticket=ticket, body="Second", actor=consultant)

    assert Ticket.objects.get(pk=ticket.pk).first_response_at == NOW


def test_reply_is_emailed_to_the_contact_after_commit(
    now: dt.datetime,
    contract: Any,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Please restart the router.", actor=consultant)
        assert mailoutbox == []

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [ticket.contact.email]
    assert message.subject == f"Re: [#{ticket.pk}] Slow network"
    assert "Please restart the router." in message.body


def test_reply_with_wait_on_client_pauses_the_clock(
    now: dt.datetime, contract: Any, consultant: User
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    ticket_reply(ticket=ticket, body="Which router?", actor=consultant, wait_on_client=True)

    ticket.refresh_from_db()
    assert ticket.status == S.WAITING_ON_CLIENT
    assert ticket.sla_paused_at == NOW
    assert _kinds(ticket) == [TicketEventKind.OPENED, TicketEventKind.REPLY, TicketEventKind.STATUS]


def test_reply_on_a_closed_ticket_is_refused(
    now: dt.datetime,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    contact = ContactFactory()
    ticket = _ticket_in(S.CLOSED, client=contact.client, contact=contact)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(TicketError, match="closed"),
    ):
        ticket_reply(ticket=ticket, body="Hello?", actor=consultant)

    assert not TicketEvent.objects.exists()
    assert mailoutbox == []


def test_reply_without_a_contact_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = TicketFactory(contact=None)

    with pytest.raises(TicketError, match="no contact"):
        ticket_reply(ticket=ticket, body="Hello?", actor=consultant)

    assert Ticket.objects.get(pk=ticket.pk).first_response_at is None


def test_a_note_is_internal_and_is_not_a_response(
    now: dt.datetime,
    contract: Any,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    with django_capture_on_commit_callbacks(execute=True):
        event = ticket_add_note(ticket=ticket, body=" Router is EOL. ", actor=consultant)

    assert (event.kind, event.body) == (TicketEventKind.NOTE, "Router is EOL.")
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is None
    assert mailoutbox == []


@pytest.fixture
def contract_ticket(contract: Any) -> Ticket:
    """A ticket of a client whose contract includes 4 hours a month at $110/h overage."""
    contract.plan.overage_hourly_rate = Decimal("110.00")
    contract.plan.save()
    return ContractTicketFactory(contract=contract, opened_at=NOW - 20 * 24 * HOUR)


def test_time_within_the_included_hours_is_covered(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    entry = time_log(ticket=contract_ticket, consultant=consultant, minutes=180, work_date=TODAY)

    assert (entry.covered_minutes, entry.billable_minutes) == (180, 0)
    assert entry.contract == contract_ticket.contract
    assert entry.charge is None
    assert not Charge.objects.exists()
    event = contract_ticket.events.get()
    assert event.kind == TicketEventKind.TIME
    assert event.body == "180 min logged, 180 covered by the contract."


def test_time_beyond_the_included_hours_is_billed_at_the_overage_rate(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    time_log(ticket=contract_ticket, consultant=consultant, minutes=180, work_date=TODAY)

    entry = time_log(ticket=contract_ticket, consultant=consultant, minutes=120, work_date=TODAY)

    assert (entry.covered_minutes, entry.billable_minutes) == (60, 60)
    assert entry.covered_minutes + entry.billable_minutes == entry.minutes
    assert entry.charge.kind == ChargeKind.OVERAGE
    assert entry.charge.amount == Decimal("110.00")
    assert entry.charge.client == contract_ticket.client
    # Once the hours are spent, all further work is overage.
    third = time_log(ticket=contract_ticket, consultant=consultant, minutes=30, work_date=TODAY)
    assert (third.covered_minutes, third.billable_minutes) == (0, 30)
    assert third.charge.amount == Decimal("55.00")


def test_included_hours_start_fresh_each_month(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    feb_28, mar_1 = dt.date(2025, 2, 28), dt.date(2025, 3, 1)
    time_log(ticket=contract_ticket, consultant=consultant, minutes=240, work_date=feb_28)

    february = time_log(ticket=contract_ticket, consultant=consultant, minutes=60, work_date=feb_28)
    march = time_log(ticket=contract_ticket, consultant=consultant, minutes=60, work_date=mar_1)

    assert (february.covered_minutes, february.billable_minutes) == (0, 60)
    assert (march.covered_minutes, march.billable_minutes) == (60, 0)


def test_transactional_time_is_all_billed_at_the_hourly_rate(
    now: dt.datetime, consultant: User, settings: Any
) -> None:
    settings.HOURLY_RATE = Decimal("120.00")
    ticket = TicketFactory()

    entry = time_log(ticket=ticket, consultant=consultant, minutes=90, work_date=TODAY, note="x")

    assert (entry.covered_minutes, entry.billable_minutes) == (0, 90)
    assert entry.contract is None
    assert entry.charge.kind == ChargeKind.LABOUR
    assert entry.charge.amount == Decimal("180.00")
    assert entry.charge.created_by == consultant


def test_billed_time_is_rounded_to_the_cent(
    now: dt.datetime, consultant: User, settings: Any
) -> None:
    settings.HOURLY_RATE = Decimal("125.00")

    entry = time_log(ticket=TicketFactory(), consultant=consultant, minutes=7, work_date=TODAY)

    assert entry.charge.amount == Decimal("14.58")  # 125 * 7 / 60 = 14.5833...


def test_sixteen_hours_is_the_longest_entry(now: dt.datetime, consultant: User) -> None:
    entry = time_log(ticket=TicketFactory(), consultant=consultant, minutes=960, work_date=TODAY)

    assert entry.minutes == 960


@pytest.mark.parametrize(
    ("minutes", "work_date", "message"),
    [
        (0, TODAY, "between 1 minute and 16 hours"),
        (-5, TODAY, "between 1 minute and 16 hours"),
        (961, TODAY, "between 1 minute and 16 hours"),
        (60, TODAY + dt.timedelta(days=1), "has not happened yet"),
        (60, TODAY - dt.timedelta(days=30), "before the ticket was opened"),
    ],
)
def test_invalid_time_is_refused_and_nothing_is_written(
    now: dt.datetime, consultant: User, minutes: int, work_date: dt.date, message: str
) -> None:
    ticket = TicketFactory(opened_at=NOW - 3 * 24 * HOUR)
    before = _counts()

    with pytest.raises(TicketError, match=message):
        time_log(ticket=ticket, consultant=consultant, minutes=minutes, work_date=work_date)

    assert _counts() == before


def test_time_on_a_closed_ticket_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = _ticket_in(S.CLOSED)

    with pytest.raises(TicketError, match="closed"):
        time_log(ticket=ticket, consultant=consultant, minutes=30, work_date=TODAY)

    assert not TimeEntry.objects.exists()


def test_a_colleague_with_a_very_long_name_is_named_in_the_activity_cut_to_fit(
    now: dt.datetime, manager: User
) -> None:
    # TicketEvent's from/to values are 64 characters; PostgreSQL would refuse a longer one.
    ticket = TicketFactory()
    long_named = User.objects.create_user("longname", first_name="A" * 150, last_name="B" * 150)

    ticket_assign(ticket=ticket, assignee=long_named, actor=manager)

    event = ticket.events.get()
    assert event.to_value == ("A" * 150)[:64]
