"""Opening a ticket: tier and deadlines, paid priority, refusals, and the acknowledgement email."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from clients.models import Charge, ChargeKind, ClientStatus, EmailKind, EmailStatus, OutboundEmail
from contracts.models import Priority, risk_point
from contracts.sla import add_covered_minutes, add_covered_time
from tests.conftest import HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    PlanFactory,
)
from tests.tickets.service_helpers import counts, kinds
from tickets.models import QueueTier, Ticket, TicketEventKind
from tickets.services import TicketError, ticket_open

pytestmark = pytest.mark.django_db


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
    assert kinds(ticket) == [TicketEventKind.OPENED]


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
    now: dt.datetime, rate_card: Any, consultant: User
) -> None:
    rate_card.paid_priority_surcharge = Decimal("80.00")
    rate_card.save()
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
    assert kinds(ticket) == [TicketEventKind.OPENED, TicketEventKind.PAID_PRIORITY]


def test_paid_priority_for_a_contract_client_is_refused_and_writes_nothing(
    now: dt.datetime, contract: Any
) -> None:
    before = counts()

    with pytest.raises(TicketError, match="on a contract"):
        ticket_open(client=contract.client, subject="Please hurry", paid_priority=True)

    assert counts() == before


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


def test_the_same_submission_opens_one_ticket_and_buys_priority_once(now) -> None:
    contact = ContactFactory()
    submission = uuid.uuid4()

    first = ticket_open(
        client=contact.client, subject="Down", paid_priority=True, submission=submission
    )
    again = ticket_open(
        client=contact.client, subject="Down", paid_priority=True, submission=submission
    )

    assert again == first
    assert Ticket.objects.count() == 1
    assert Charge.objects.filter(kind=ChargeKind.PAID_PRIORITY).count() == 1
    assert OutboundEmail.objects.filter(kind=EmailKind.TICKET_ACKNOWLEDGEMENT).count() == 1


def test_the_same_form_sent_for_another_client_opens_that_client_s_ticket(now) -> None:
    # Back in the browser, the client changed, the form sent again: a new ticket, not a repeat.
    submission = uuid.uuid4()
    first = ticket_open(client=ContactFactory().client, subject="Down", submission=submission)
    other = ContactFactory().client

    second = ticket_open(client=other, subject="Down", submission=submission)

    assert second != first
    assert (second.client, second.submission) == (other, None)
    assert Ticket.objects.count() == 2


def test_opening_a_ticket_writes_its_acknowledgement_in_the_same_transaction(now) -> None:
    contact = ContactFactory(name="Ana Diaz", email="ana@harbor.example")

    ticket = ticket_open(client=contact.client, subject="Server will not boot")

    (row,) = OutboundEmail.objects.all()
    assert (row.kind, row.key, row.to, row.client_id, row.status) == (
        EmailKind.TICKET_ACKNOWLEDGEMENT,
        f"ticket-acknowledgement:{ticket.pk}:ana@harbor.example",
        "ana@harbor.example",
        contact.client_id,
        EmailStatus.PENDING,
    )
    assert f"[#{ticket.pk}]" in row.subject
    assert row.headers == {"X-Ticket-Ref": f"ticket-{ticket.pk}"}
