"""The real thing: a ticket opened here is acknowledged by a live Celery worker over the
configured broker (Redis under CI), through a real SMTP server on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from consultancy.celery import app as celery_app
from tests.factories import ClientFactory, ContactFactory, ContractFactory
from tickets.services import ticket_open

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def worker(smtp: tuple[Inbox, int]) -> Iterator[subprocess.Popen[bytes]]:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp[1]}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "consultancy", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    celery_app.conf.task_always_eager = False
    try:
        yield proc
    finally:
        celery_app.conf.task_always_eager = True
        proc.terminate()
        proc.wait(timeout=30)


def test_opening_a_ticket_sends_the_acknowledgement_through_a_live_worker(
    smtp: tuple[Inbox, int], worker: subprocess.Popen[bytes]
) -> None:
    inbox, _port = smtp
    client = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=client, name="Ana Diaz", email="ana@harbor.example")
    ContractFactory(client=client)

    ticket = ticket_open(client=client, subject="Server will not boot", priority="urgent")
    connection.close()  # the worker reads the committed ticket from the same database

    deadline = time.monotonic() + 60
    while not inbox.messages and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.2)
    if not inbox.messages:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
        pytest.fail(f"no email within 60 s; the worker said:\n{output[-3000:]}")
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
    assert len(inbox.messages) == 1
