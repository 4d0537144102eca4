"""The real thing: a ticket opened here is acknowledged by a live Celery worker over Redis,
through a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from tests.factories import ClientFactory, ContactFactory, ContractFactory
from tests.integration.servers import LiveWorker, wait_for
from tests.smtp import Inbox
from tickets.services import ticket_open

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def test_opening_a_ticket_sends_the_acknowledgement_through_a_live_worker(
    inbox: Inbox, start_worker: Callable[..., LiveWorker]
) -> None:
    client = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=client, name="Ana Diaz", email="ana@harbor.example")
    ContractFactory(client=client)
    worker = start_worker(pool="solo", concurrency=1)

    ticket = ticket_open(client=client, subject="Server will not boot", priority="urgent")
    connection.close()  # the worker reads the committed ticket from the same database

    wait_for(lambda: len(inbox) > 0, timeout=60, what="the acknowledgement", workers=(worker,))
    message = inbox.messages[0]
    assert message["To"] == "ana@harbor.example"
    assert f"[#{ticket.pk}]" in message["Subject"]
    bodies = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert "guarantees a first response" in bodies["text/plain"]
    assert "<strong>" in bodies["text/html"]
    assert len(inbox) == 1
