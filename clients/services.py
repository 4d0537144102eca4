"""Writes to clients: dropping and reinstating them, and the history every standing change leaves."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeAlias

from django.db import transaction
from django.utils import timezone

from clients.models import Client, ClientEvent, ClientEventKind, ClientStatus
from clients.signals import client_dropped

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    # Who made a change: the signed-in staff member, or None for the client or a scheduled task.
    Actor: TypeAlias = User | AnonymousUser | None


class ClientError(Exception):
    """A change to a client that the business rules do not allow; the message is for the user."""


def client_event_record(
    *,
    client: Client,
    kind: ClientEventKind,
    summary: str,
    by: Actor = None,
    at: dt.datetime | None = None,
) -> ClientEvent:
    """Add a line to the client's history; call it inside the transaction that made the change."""
    return ClientEvent.objects.create(
        client=client,
        kind=kind,
        summary=summary.strip()[:500],
        by=by if by is not None and by.is_authenticated else None,
        at=at or timezone.now(),
    )


def dropped_summary(reason: str) -> str:
    """The history's line for a drop (the services and the demo share it)."""
    return f"Dropped: {reason}" if reason else "Dropped"


@transaction.atomic
def client_drop(*, client: Client, reason: str, by: Actor = None) -> Client:
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
    client_event_record(
        client=locked,
        kind=ClientEventKind.DROPPED,
        summary=dropped_summary(locked.drop_reason),
        by=by,
        at=locked.dropped_at,
    )
    client_dropped.send(sender=Client, client=locked)
    return locked


@transaction.atomic
def client_reinstate(*, client: Client, by: Actor = None) -> Client:
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if not locked.is_dropped:
        raise ClientError(f"{locked} is already active.")
    locked.status = ClientStatus.ACTIVE
    locked.dropped_at = None
    locked.drop_reason = ""
    locked.save(update_fields=["status", "dropped_at", "drop_reason"])
    client_event_record(client=locked, kind=ClientEventKind.REINSTATED, summary="Reinstated", by=by)
    return locked
