"""Mail backends and helpers the offer delivery and email tests share."""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from typing import Any, ClassVar

from django.core.mail.backends import locmem

from offers.models import ConversionOffer
from tests.factories import PendingOfferFactory


class RecordingBackend(locmem.EmailBackend):
    """The test outbox, remembering each connection made and what went over it."""

    connections: ClassVar[list[RecordingBackend]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.opened = 0
        self.sent = 0
        RecordingBackend.connections.append(self)

    def open(self) -> bool | None:
        self.opened += 1
        return super().open()

    def send_messages(self, messages: Any) -> int:
        count = super().send_messages(messages)
        self.sent += count
        return count


class DisconnectingBackend(RecordingBackend):
    """A mail server that hangs up when the third message of a connection starts."""

    def send_messages(self, messages: Any) -> int:
        if self.sent == 2:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


REFUSED = "left-the-company@client.example"


class RefusingBackend(RecordingBackend):
    """A mail server that refuses one address for good (550: no such mailbox)."""

    answer = (550, b"5.1.1 No such user")

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if REFUSED in [parseaddr(r)[1] for r in message.recipients()]:
                raise smtplib.SMTPRecipientsRefused({REFUSED: self.answer})
        return super().send_messages(messages)


class BusyMailboxBackend(RefusingBackend):
    """A mail server that cannot take one address right now (450: try again later)."""

    answer = (450, b"4.2.1 Mailbox busy")


def pending(count: int, **fields: Any) -> list[ConversionOffer]:
    return [PendingOfferFactory(**fields) for _ in range(count)]


def statuses(offers: list[ConversionOffer]) -> list[str]:
    return [ConversionOffer.objects.get(pk=o.pk).status for o in offers]


def recipient(message: Any) -> str:
    (address,) = [parseaddr(a)[1] for a in message.to]
    return address
