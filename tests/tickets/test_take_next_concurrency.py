"""Take next under contention, on PostgreSQL with real threads and row locks."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.factories import ClientFactory
from tickets.models import Ticket
from tickets.services import ticket_take_next

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONSULTANTS = 8
TICKETS = 200


def test_eight_consultants_taking_next_claim_every_ticket_exactly_once() -> None:
    client = ClientFactory()
    Ticket.objects.bulk_create(Ticket(client=client, subject=f"Ticket {n}") for n in range(TICKETS))
    people = [User.objects.create_user(f"consultant{n}") for n in range(CONSULTANTS)]
    claims: list[tuple[int, int]] = []
    lock = threading.Lock()
    start = threading.Barrier(CONSULTANTS)
    errors: list[BaseException] = []

    def work(person: User) -> None:
        try:
            start.wait()
            while (ticket := ticket_take_next(consultant=person)) is not None:
                with lock:
                    claims.append((ticket.pk, person.pk))
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert not errors
    per_ticket = Counter(pk for pk, _ in claims)
    assert len(per_ticket) == TICKETS
    assert set(per_ticket.values()) == {1}, "a ticket was handed to two consultants"
    # What the database says agrees with what each consultant was told.
    assigned = dict(Ticket.objects.values_list("pk", "assignee_id"))
    assert all(assigned[pk] == person for pk, person in claims)
    # Work was spread: with SKIP LOCKED nobody waits on a row another consultant is claiming.
    assert len({person for _, person in claims}) > 1
