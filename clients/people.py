"""How the app names a member of staff: by full name, or by login when no name is set.

Clients read these names in emails and colleagues in the workspace, the admin and the ticket
activity; every one of those goes through `staff_name`, so a colleague is called the same
everywhere. It lives at the bottom layer because the client history (clients) shows staff too.
"""

from __future__ import annotations

from typing import Protocol


class Named(Protocol):
    first_name: str
    last_name: str

    def get_username(self) -> str: ...


def name_from(first_name: str | None, last_name: str | None, username: str | None) -> str:
    """The name from its parts (for rows read as plain values, like the queue's)."""
    return f"{first_name or ''} {last_name or ''}".strip() or username or ""


def staff_name(user: Named) -> str:
    """ "Casey Nguyen", or "casey" when no name is set."""
    return name_from(user.first_name, user.last_name, user.get_username())
