"""Who works tickets: the permission that makes a consultant (managers hold it too)."""

from __future__ import annotations

WORK_TICKETS = "tickets.change_ticket"
