"""An SMTP sink on loopback for tests: aiosmtpd in its own thread, keeping what it accepts,
and misbehaving on demand the way real mail servers do: a temporary (4xx) or permanent (5xx)
refusal of a recipient or of a whole message, and a connection dropped in the middle of a
message or after its final "." with no answer.

The `inbox` fixture (tests/conftest.py) starts one per test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


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
        # Recipient -> the server's answer to RCPT for them ("450 ..." or "550 ...").
        self.refuse_rcpt: dict[str, str] = {}
        # The answer to every MAIL FROM, when set: a server that will not take the sender.
        self.refuse_sender: str | None = None
        # Recipients whose message the server hangs up in the middle of (after the first lines
        # of the message, before its final "."), and those whose message it takes whole and
        # then hangs up on without an answer and without keeping it. Remove an address to
        # let its next message through.
        self.drop_mid_data: set[str] = set()
        self.drop_after_data: set[str] = set()
        self.dropped = 0  # connections hung up on, mid-message or after it
        # Recipient -> what the server does with each of their next messages, one step a
        # message, and then it takes them: an answer to RCPT ("450 ..."), "data:451 ..." (that
        # answer after the final "."), "drop-mid" or "drop-after" (hang up as above). A fault
        # that lasts "a while" for every client, made exact: each meets it the same number of
        # times, however the retries of the different emails interleave.
        self.script: dict[str, list[str]] = {}
        self._stall_each: int | None = None
        self.waiting = 0  # senders held at RCPT right now

    def stall_after(self, count: int) -> None:
        """Once `count` messages are in, leave every sender waiting for the reply to RCPT.

        A worker spends most of a send waiting on the mail server; killing it while it waits
        there is a worker dying mid-batch at a moment the test can name. (The one unsafe
        instant, between recording a message as sent and its final ".", is a few microseconds
        long; see clients/sending.py.)
        """
        self._released.clear()
        self._stall_from = count

    def stall_each_after(self, count: int) -> None:
        """Like stall_after, counted per connection: each sender has `count` messages taken and
        then waits, so two batches sent at once are both held halfway, at a count known."""
        self._released.clear()
        self._stall_each = count

    def release(self) -> None:
        self._stall_from = self._stall_each = None
        self._released.set()

    def _must_stall(self, session: object) -> bool:
        if self._stall_from is not None and len(self) >= self._stall_from:
            return True
        taken = getattr(session, "messages_taken", 0)
        return self._stall_each is not None and taken >= self._stall_each

    def _follow_script(self, address: str) -> str | None:
        """Set up this message's fault from the recipient's script; an answer to RCPT, if any."""
        steps = self.script.get(address)
        if steps is None:
            return None
        self.refuse_data.pop(address, None)
        self.drop_mid_data.discard(address)
        self.drop_after_data.discard(address)
        step = steps.pop(0) if steps else "take it"
        if step == "drop-mid":
            self.drop_mid_data.add(address)
        elif step == "drop-after":
            self.drop_after_data.add(address)
        elif step.startswith("data:"):
            self.refuse_data[address] = step.removeprefix("data:")
        elif step != "take it":
            return step
        return None

    async def handle_MAIL(
        self,
        server: object,
        session: object,
        envelope: object,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.refuse_sender is not None:
            return self.refuse_sender
        envelope.mail_from = address  # type: ignore[attr-defined]
        envelope.mail_options.extend(mail_options)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_RCPT(
        self,
        server: object,
        session: object,
        envelope: object,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        import asyncio

        if self._must_stall(session):
            with self._lock:
                self.waiting += 1
            self.stalled.set()
            while not self._released.is_set():
                await asyncio.sleep(0.05)
            with self._lock:
                self.waiting -= 1
        if (answer := self._follow_script(address)) is not None:
            return answer
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    def hang_up(self, server: SMTP) -> None:
        with self._lock:
            self.dropped += 1
        if server.transport is not None:
            server.transport.abort()

    async def handle_DATA(self, server: SMTP, session: object, envelope: object) -> str:
        for address in envelope.rcpt_tos:  # type: ignore[attr-defined]
            if address in self.drop_after_data:
                self.hang_up(server)  # the "250" below goes nowhere: the connection is gone
                return "250 OK"
            if address in self.refuse_data:
                return self.refuse_data[address]
        delivery = Delivery(
            recipients=tuple(envelope.rcpt_tos),  # type: ignore[attr-defined]
            message=message_from_bytes(envelope.content),  # type: ignore[attr-defined]
        )
        with self._lock:
            self._deliveries.append(delivery)
        session.messages_taken = getattr(session, "messages_taken", 0) + 1  # type: ignore[attr-defined]
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


class FaultySMTP(SMTP):
    """aiosmtpd's server, able to hang up in the middle of a message (its inbox says whom for)."""

    inbox: Inbox

    async def smtp_DATA(self, arg: str) -> None:
        envelope = self.envelope
        if envelope is None or not self.inbox.drop_mid_data.intersection(envelope.rcpt_tos):
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readuntil(b"\r\n")  # the first line of the message, then silence
        self.inbox.hang_up(self)


class InboxController(Controller):
    """Runs an Inbox on loopback with the faulty server above."""

    def __init__(self, inbox: Inbox, **kwargs: Any) -> None:
        super().__init__(inbox, hostname="127.0.0.1", port=inbox.port, **kwargs)
        self.inbox = inbox

    def factory(self) -> SMTP:
        server = FaultySMTP(self.handler, **self.SMTP_kwargs)
        server.inbox = self.inbox
        return server
