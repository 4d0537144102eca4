"""Who works tickets: the permission that makes a consultant (managers hold it too), and the
people who hold it."""

from __future__ import annotations

from typing import Any

from clients.staff import users_with_perm

WORK_TICKETS = "tickets.change_ticket"


def consultants() -> Any:
    """Everyone who may work tickets (for assignment), in one query."""
    return (
        users_with_perm(WORK_TICKETS, include_superusers=False)
        .filter(is_active=True)
        .order_by("first_name", "username")
    )
