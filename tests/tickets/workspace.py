"""What the workspace view tests share (tests/tickets/test_views_*.py): names for bad input and
a snapshot of every row a workspace request could write."""

from __future__ import annotations

from typing import Any

from clients.models import Charge
from tickets.models import Ticket, TicketEvent, TimeEntry

UNKNOWN = 999_999

TOO_LONG = "x" * 20_001
LONG_MESSAGE = "Ensure this value has at most 20000 characters (it has 20001)."


def snapshot() -> tuple[Any, ...]:
    """Every row a workspace request could write."""
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        TimeEntry.objects.count(),
        Charge.objects.count(),
    )
