"""Writes to clients: dropping and reinstating them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clients.models import Client, ClientStatus


class ClientError(Exception):
    """A change to a client that the business rules do not allow; the message is for the user."""


@transaction.atomic
def client_drop(*, client: Client, reason: str) -> Client:
    """Stop serving a client who never converted; its history stays."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.is_dropped:
        raise ClientError(f"{locked} was already dropped.")
    # The contracts app sits above clients, so the "no active contract" rule is checked by its
    # callers (the admin action asks contracts first); the database keeps history either way.
    locked.status = ClientStatus.DROPPED
    locked.dropped_at = timezone.now()
    locked.drop_reason = reason.strip()[:500]
    locked.save(update_fields=["status", "dropped_at", "drop_reason"])
    return locked


@transaction.atomic
def client_reinstate(*, client: Client) -> Client:
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if not locked.is_dropped:
        raise ClientError(f"{locked} is already active.")
    locked.status = ClientStatus.ACTIVE
    locked.dropped_at = None
    locked.drop_reason = ""
    locked.save(update_fields=["status", "dropped_at", "drop_reason"])
    return locked
