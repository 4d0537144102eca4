"""The staff accounts' audit trail: django.contrib.auth's User is not ours, so its history table
is registered here and lives in this app (clients.audit tells the rest)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from simple_history import register
from simple_history.models import HistoricalRecords

# Never copied into the history: a password hash lives on only where it is in use, and the
# moment of each sign-in is no change anyone made.
UNRECORDED_USER_FIELDS = ("password", "last_login")


class StaffRecords(HistoricalRecords):
    """A user's history, without an entry for a save of unrecorded fields only (every sign-in
    saves last_login; a password change saves the hash)."""

    def post_save(self, instance: Any, created: bool, using: Any = None, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(UNRECORDED_USER_FIELDS):
            return
        super().post_save(instance, created, using=using, **kwargs)


register(
    User,
    app="consultancy",
    records_class=StaffRecords,
    excluded_fields=list(UNRECORDED_USER_FIELDS),
    m2m_fields=["groups", "user_permissions"],
)
