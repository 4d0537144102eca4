"""An SMTP sink on loopback for tests: aiosmtpd in its own thread, keeping what it accepts.

The `inbox` fixture (tests/conftest.py) starts one per test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message


@dataclass(frozen=True)
class Delivery:
    recipients: tuple[str, ...]
    message: Message


class Inbox:
    """An SMTP sink that keeps every message it accepts (aiosmtpd runs it in its own thread)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._stall_from: int | None = None
        self.stalled = threading.Event()
        self._released = threading.Event()
        # Recipient -> the server's answer to a message for them once it has it all (after the
        # final "."): "554 ..." refuses it for good, "451 ..." for now.
        self.refuse_data: dict[str, str] = {}

    def stall_after(self, count: int) -> None:
        """Once `count` messages are in, leave every sender waiting for the reply to RCPT.

        A worker spends most of a send waiting on the mail server; killing it while it waits
        there is a worker dying mid-batch at a moment the test can name. (The one unsafe
        instant, between recording a message as sent and its final ".", is a few microseconds
        long; see clients/sending.py.)
        """
        self._stall_from = count

    def release(self) -> None:
        self._stall_from = None
        self._released.set()

    async def handle_RCPT(
        self,
        server: object,
        session: object,
        envelope: object,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        import asyncio

        if self._stall_from is not None and len(self) >= self._stall_from:
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        for address in envelope.rcpt_tos:  # type: ignore[attr-defined]
            if address in self.refuse_data:
                return self.refuse_data[address]
        delivery = Delivery(
            recipients=tuple(envelope.rcpt_tos),  # type: ignore[attr-defined]
            message=message_from_bytes(envelope.content),  # type: ignore[attr-defined]
        )
        with self._lock:
            self._deliveries.append(delivery)
        return "250 OK"

    def __len__(self) -> int:
        with self._lock:
            return len(self._deliveries)

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    @property
    def messages(self) -> list[Message]:
        return [delivery.message for delivery in self.deliveries]
