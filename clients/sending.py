"""Handing one message to the mail server and recording it as sent, with one rule for every
email of the practice: the offers (offers.delivery) and the outbox (clients.outbox).

The record is written after the server holds the whole message and before the final "." that
makes it deliver. A worker killed before the record sends nothing (the server drops an
unfinished message); one killed after it has delivered and recorded. The record is taken back
whenever the server's answer to the "." is not "250": a refusal, or no answer at all (the
connection dropped, timed out, or the task ran out of time while waiting for it).

Two windows are left, and both are documented trades:
- a kill in the microseconds between committing the record and writing the "." loses that
  message (recorded sent, never delivered);
- a connection that drops after the server took the "." but before its "250" reached us is
  taken back and retried: if the server had queued the message, the client gets it twice.
  SMTP cannot tell the two cases apart (RFC 1047); a repeat is the lesser harm than a loss.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from smtplib import (
    SMTPDataError,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address

from clients import mime


def stale_claim_age() -> dt.timedelta:
    """A claim older than this was made by a worker that is gone (no live task runs longer)."""
    return dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 30)


def is_permanent_refusal(exc: BaseException) -> bool:
    """A 5xx answer about this message (a bad address, rejected content), as opposed to a 4xx
    ("not now") or a connection that failed. A refused sender is never this: "530 Authentication
    required" or "550 sender rejected" is the practice's own configuration, wrong for every
    message alike until someone fixes it, so each waits and is tried again."""
    if isinstance(exc, SMTPSenderRefused):
        return False
    if isinstance(exc, SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    code = exc.smtp_code if isinstance(exc, SMTPResponseException) else 0
    return isinstance(code, int) and code >= 500


@lru_cache(maxsize=64)
def _envelope_address(address: str, encoding: str) -> str:
    # Parsing an address costs 0.1 ms; a batch gives the same sender a hundred times.
    return sanitize_address(address, encoding)


def _data_payload(body: bytes) -> bytes:
    """The message as DATA carries it: line ends and dot-stuffing as smtplib.SMTP.data() does
    them (RFC 5321 4.5.2), ending in CRLF."""
    # Two regular expressions over every message cost as much as encoding it; an encoded message
    # has CRLF line ends already, and then doubling a dot after each CRLF is the same stuffing.
    crlf = body.count(b"\r\n")
    if body.count(b"\r") != crlf or body.count(b"\n") != crlf:
        body = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", body)
    payload = body.replace(b"\r\n.", b"\r\n..")
    if payload.startswith(b"."):
        payload = b"." + payload
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload


@dataclass(frozen=True)
class Envelope:
    """A message made ready for the SMTP conversation: its envelope and its DATA payload."""

    message: EmailMessage
    sender: str
    recipients: list[str]
    payload: bytes


def envelope_of(message: EmailMessage) -> Envelope:
    """Encode `message` and parse its addresses for send_committing. The offers' worker does
    this while the server takes the previous message (its `meanwhile`), not between the
    server's "250" and the next "MAIL FROM": the encoding and the recipient's parsing (0.1 ms)
    were on the path of every message."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    return Envelope(
        message=message,
        sender=_envelope_address(message.from_email, encoding),
        recipients=[sanitize_address(addr, encoding) for addr in message.recipients()],
        payload=_data_payload(mime.encode(message)),
    )


def send_committing(
    connection: BaseEmailBackend,
    message: EmailMessage | Envelope,
    record: Callable[[bool], None],
    *,
    meanwhile: Callable[[], object] | None = None,
) -> None:
    """Send one message and record it as sent, with the smallest window for doubt.

    `record(True)` is called after the server has the whole message and before the final ".",
    `record(False)` when the server then does not answer "250" (a refusal raises
    SMTPDataError with its code; a dropped connection raises what smtplib raised). Other
    backends (console, file, memory) cannot half-send, so they record afterwards.

    `meanwhile` runs after the final "." and before reading the server's answer to it, while
    the server takes the message in: building the next message there costs a batch no time.
    Its failure is raised once the answer is read (and, on a refusal, the record taken back).
    """
    if not isinstance(connection, SMTPBackend) or connection.connection is None:
        connection.send_messages([message.message if isinstance(message, Envelope) else message])
        record(True)
        if meanwhile is not None:
            meanwhile()
        return
    smtp = connection.connection
    if smtp.sock is not None and smtp.sock.family in (socket.AF_INET, socket.AF_INET6):
        # The final "." is a small write right after the message, which the server has not
        # acknowledged yet (it answers only after the dot). Nagle's algorithm would hold it
        # until the server's delayed ACK: 40 ms per message on Linux, the whole send rate.
        smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ready = message if isinstance(message, Envelope) else envelope_of(message)
    sender, recipients = ready.sender, ready.recipients
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        smtp.rset()
        raise SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if len(refused) == len(recipients):
        smtp.rset()
        raise SMTPRecipientsRefused(refused)
    code, reply = smtp.docmd("data")
    if code != 354:
        smtp.rset()
        raise SMTPDataError(code, reply)
    try:
        smtp.send(ready.payload)  # a connection lost in here raises before anything is recorded
        record(True)
    except BaseException:
        # The final "." was never sent, so the server will not deliver this message: a record
        # that committed before its statement raised (the commit's answer lost in a failover,
        # the soft time limit landing just after it) is taken back, or the row would stay
        # "sent" and never go. (A no-op when nothing was recorded; if the database is gone,
        # the row stays as it is and the original error is what the caller sees.)
        with contextlib.suppress(Exception):
            record(False)
        # Nothing more can go over this connection: the server is reading the message, so the
        # QUIT that closing it sends would be read as more of the message, and its answer
        # waited for until the timeout (30 s of a worker frozen, each time the database went
        # away under a record). Drop it; the server discards a message without its final ".".
        smtp.close()
        raise
    failed: Exception | None = None
    try:
        smtp.send(b".\r\n")
        if meanwhile is not None:
            try:
                meanwhile()
            except Exception as exc:  # raised below, once the server's answer is known
                failed = exc
        code, reply = smtp.getreply()
    except BaseException:
        # No answer to the "." (the connection dropped or timed out, the task's time ran out):
        # the message may or may not be on the server. Take the record back, so it is tried
        # again rather than left "sent" and possibly never delivered (see the module's note).
        record(False)
        raise
    if code != 250:
        record(False)
        raise SMTPDataError(code, reply)
    if failed is not None:
        raise failed
