"""Handing a message to the mail server (clients/sending.py), where what breaks mid-message
must not leave the conversation half-way."""

from __future__ import annotations

import time

import pytest
from django.core.mail import EmailMessage, get_connection
from django.db import OperationalError

from clients.sending import send_committing


def test_a_record_that_fails_mid_message_drops_the_connection_at_once(settings, inbox):
    # The database went away under the worker (a failover) just as the message was recorded:
    # the server has the message but not its final ".". Closing the connection used to send
    # QUIT, which the server read as more of the message, and wait for an answer until the
    # timeout: the worker stood still that long.
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    message = EmailMessage("Your ticket", "We are on it.", "desk@example.com", ["ana@x.example"])
    records: list[bool] = []

    def record(sent: bool) -> None:
        records.append(sent)
        raise OperationalError("server closed the connection unexpectedly")

    connection = get_connection("django.core.mail.backends.smtp.EmailBackend", timeout=5)
    connection.open()
    with pytest.raises(OperationalError):
        send_committing(connection, message, record)
    started = time.monotonic()
    connection.close()

    assert time.monotonic() - started < 1
    # The record is taken back (the final "." never went), a try that fails here too.
    assert records == [True, False]
    assert len(inbox) == 0


def test_a_record_that_committed_then_raised_is_taken_back(settings, inbox):
    # The record's UPDATE committed, then the task's soft time limit (or a lost commit answer)
    # raised before the final ".": the server drops the message, so the row must not stay sent.
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    message = EmailMessage("Your ticket", "We are on it.", "desk@example.com", ["ana@x.example"])
    state = {"sent": False}

    def record(sent: bool) -> None:
        state["sent"] = sent
        if sent:
            raise TimeoutError("soft time limit")

    connection = get_connection("django.core.mail.backends.smtp.EmailBackend", timeout=5)
    connection.open()
    with pytest.raises(TimeoutError):
        send_committing(connection, message, record)
    connection.close()

    assert state == {"sent": False}
    assert len(inbox) == 0
