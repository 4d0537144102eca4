"""What the ticket service tests share (tests/tickets/test_ticket_*.py): counts of what a service
writes, a ticket's activity, and a ticket already in a given status."""

from __future__ import annotations

from typing import Any

from clients.models import Charge
from tests.conftest import HOUR, NOW
from tests.factories import TicketFactory
from tickets.models import Ticket, TicketEvent, TicketStatus, TimeEntry

S = TicketStatus


def counts() -> tuple[int, int, int, int]:
    return (
        Ticket.objects.count(),
        TicketEvent.objects.count(),
        TimeEntry.objects.count(),
        Charge.objects.count(),
    )


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("id").values_list("kind", flat=True))


def ticket_in(status: str, **fields: Any) -> Ticket:
    return TicketFactory(
        **fields,
        status=status,
        resolved_at=NOW - HOUR if status in (S.RESOLVED, S.CLOSED) else None,
        closed_at=NOW - HOUR if status == S.CLOSED else None,
    )
