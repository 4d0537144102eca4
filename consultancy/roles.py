"""The two staff roles. Groups carry the permissions (see migrations/0001_roles.py); code asks
for permissions, so an app below this package can check them without importing it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MANAGERS = "Managers"
CONSULTANTS = "Consultants"

# What makes someone a manager (runs contracts) and a consultant (works tickets).
MANAGE_CONTRACTS = "contracts.change_servicecontract"
WORK_TICKETS = "tickets.change_ticket"


def is_manager(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.has_perm(MANAGE_CONTRACTS))


def is_consultant(user: User | AnonymousUser) -> bool:
    """Return whether the user may work tickets: consultants, and managers, who can do all they do."""
    return bool(user.is_authenticated and user.has_perm(WORK_TICKETS))
