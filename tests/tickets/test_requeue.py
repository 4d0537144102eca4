"""A client's contract starting or ending re-queues its open tickets (via the contracts signals)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from contracts.models import Coverage, Priority
from contracts.services import contract_cancel, contract_renew, contract_start
from contracts.signals import contract_started
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    PaidPriorityTicketFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import QueueTier, Ticket, TicketEventKind, TicketStatus
from tickets.services import ticket_open, ticket_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def always_plan() -> Any:
    """24x7: normal priority is 4h to respond and 24h to resolve, counted around the clock."""
    return PlanFactory(coverage=Coverage.ALWAYS)


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def test_starting_a_contract_turns_open_tickets_into_contract_tickets(
    now: dt.datetime, always_plan: Any
) -> None:
    client = ClientFactory()
    new = TicketFactory(client=client, opened_at=NOW - 2 * DAY)
    in_progress = TicketFactory(client=client, status=TicketStatus.IN_PROGRESS)

    contract = contract_start(client=client, plan=always_plan)

    for ticket in (new, in_progress):
        ticket = _fresh(ticket)
        assert ticket.queue_tier == QueueTier.CONTRACT
        assert ticket.contract == contract
        # The guarantee starts with the contract, not when the ticket was opened.
        assert ticket.response_due_at == NOW + 4 * HOUR
        assert ticket.resolution_due_at == NOW + 24 * HOUR
        assert ticket.response_risk_at == NOW + 3 * HOUR
        assert ticket.resolution_risk_at == NOW + 18 * HOUR
        assert ticket.queue_due_at == ticket.response_due_at
        event = ticket.events.get()
        assert event.kind == TicketEventKind.SLA
        assert "new contract" in event.body


def test_starting_a_contract_leaves_finished_and_other_clients_tickets_alone(
    now: dt.datetime, always_plan: Any
) -> None:
    client = ClientFactory()
    resolved = TicketFactory(client=client, status=TicketStatus.RESOLVED, resolved_at=NOW)
    someone_else = TicketFactory()

    contract_start(client=client, plan=always_plan)

    for ticket in (resolved, someone_else):
        assert _fresh(ticket).queue_tier == QueueTier.STANDARD
        assert not ticket.events.exists()


def test_an_answered_ticket_is_queued_by_its_resolution_deadline(
    now: dt.datetime, always_plan: Any, consultant: Any
) -> None:
    client = ContactFactory().client
    ticket = ticket_open(client=client, subject="Laptop slow")
    ticket_reply(ticket=ticket, body="On it", actor=consultant)

    contract_start(client=client, plan=always_plan)

    ticket = _fresh(ticket)
    assert ticket.queue_due_at == ticket.resolution_due_at == NOW + 24 * HOUR


def test_a_waiting_ticket_starts_its_contract_clock_paused(
    now: dt.datetime, always_plan: Any
) -> None:
    client = ClientFactory()
    waiting = TicketFactory(client=client, status=TicketStatus.WAITING_ON_CLIENT)

    contract_start(client=client, plan=always_plan)

    waiting = _fresh(waiting)
    assert waiting.queue_tier == QueueTier.CONTRACT
    assert waiting.sla_paused_at == NOW


def test_a_requeued_contract_ticket_goes_ahead_of_older_transactional_tickets(
    now: dt.datetime, always_plan: Any
) -> None:
    older = TicketFactory(opened_at=NOW - 5 * DAY)
    client = ClientFactory()
    newer = TicketFactory(client=client, opened_at=NOW - HOUR)

    contract_start(client=client, plan=always_plan)

    assert list(Ticket.objects.actionable().in_queue_order()) == [newer, older]


def test_cancelling_a_contract_returns_tickets_to_the_transactional_tiers(
    now: dt.datetime, always_plan: Any, time_machine: Any
) -> None:
    client = ClientFactory()
    standard = TicketFactory(client=client)
    paid = PaidPriorityTicketFactory(client=client)
    waiting = TicketFactory(client=client, status=TicketStatus.WAITING_ON_CLIENT)
    contract = contract_start(client=client, plan=always_plan)
    assert {t.queue_tier for t in Ticket.objects.all()} == {QueueTier.CONTRACT}
    time_machine.move_to(NOW + HOUR, tick=False)

    contract_cancel(contract=contract, reason="Moving away")

    expected = {standard: QueueTier.STANDARD, paid: QueueTier.PAID_PRIORITY}
    for ticket, tier in (*expected.items(), (waiting, QueueTier.STANDARD)):
        ticket = _fresh(ticket)
        assert ticket.queue_tier == tier
        assert ticket.contract is None
        assert ticket.response_due_at is None
        assert ticket.resolution_due_at is None
        assert ticket.response_risk_at is None
        assert ticket.resolution_risk_at is None
        assert ticket.queue_due_at is None
        assert ticket.sla_paused_at is None
        kinds_and_bodies = list(ticket.events.values_list("kind", "body"))
        assert [kind for kind, _ in kinds_and_bodies] == [TicketEventKind.SLA] * 2
        assert "contract ended" in kinds_and_bodies[-1][1]


def test_a_ticket_opened_on_contract_loses_its_guarantee_when_the_contract_is_cancelled(
    now: dt.datetime, always_plan: Any
) -> None:
    contract = ContractFactory(plan=always_plan)
    ticket = ticket_open(client=contract.client, subject="Server down")

    contract_cancel(contract=contract)

    ticket = _fresh(ticket)
    assert ticket.queue_tier == QueueTier.STANDARD
    assert ticket.queue_due_at is None


def test_renewing_a_contract_keeps_tickets_as_they_are(now: dt.datetime, always_plan: Any) -> None:
    contract = ContractFactory(plan=always_plan)
    ticket = ticket_open(client=contract.client, subject="Server down")
    before = Ticket.objects.filter(pk=ticket.pk).values().get()

    contract_renew(contract=contract)

    assert Ticket.objects.filter(pk=ticket.pk).values().get() == before
    assert list(ticket.events.values_list("kind", flat=True)) == [TicketEventKind.OPENED]


def test_tickets_requeue_inside_the_contract_transaction(
    now: dt.datetime, always_plan: Any
) -> None:
    """A failure after the requeue rolls back the contract and the ticket changes together."""
    client = ClientFactory()
    ticket = TicketFactory(client=client)

    def fail(sender: object, **kwargs: object) -> None:
        raise RuntimeError("a later receiver fails")

    contract_started.connect(fail, weak=False)
    try:
        with pytest.raises(RuntimeError):
            contract_start(client=client, plan=always_plan)
    finally:
        contract_started.disconnect(fail)

    ticket = _fresh(ticket)
    assert ticket.queue_tier == QueueTier.STANDARD
    assert not ticket.events.exists()
    assert not client.contracts.exists()


def test_a_plan_without_a_target_for_a_tickets_priority_does_not_stop_the_contract(
    now: dt.datetime,
) -> None:
    # The plan admin asks for at least one target, not one per priority.
    plan = PlanFactory(coverage=Coverage.ALWAYS, targets={Priority.NORMAL: (240, 1440)})
    client = ClientFactory()
    low = TicketFactory(client=client, priority=Priority.LOW)

    contract = contract_start(client=client, plan=plan)

    low = _fresh(low)
    assert low.contract == contract
    assert low.queue_tier == QueueTier.CONTRACT
    assert low.queue_due_at is not None
