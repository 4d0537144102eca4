"""What the queue tests share (tests/tickets/test_queue_*.py): no filters, and a contract ticket
with deadlines relative to NOW."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.conftest import DAY, HOUR, NOW
from tests.factories import ContractTicketFactory
from tickets.models import Ticket
from tickets.queue import QueueFilters

ANYTHING = QueueFilters()


def contract_ticket_due(due_in: dt.timedelta, **fields: Any) -> Ticket:
    due = NOW + due_in
    return ContractTicketFactory(
        response_due_at=due,
        response_risk_at=due - HOUR,
        resolution_due_at=due + DAY,
        resolution_risk_at=due + DAY - HOUR,
        **fields,
    )
