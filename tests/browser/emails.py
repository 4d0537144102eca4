"""What a client reads in an email the SMTP server on loopback received (tests/smtp.py): who it
is for, its text and HTML parts, and the links in them."""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from tests.smtp import Inbox

LINK = re.compile(r"https?://\S+")


def addressed_to(inbox: Inbox, address: str) -> list[Message]:
    """The messages whose To header names `address`, in the order they arrived."""
    return [
        message
        for message in inbox.messages
        if address in (bare for _name, bare in getaddresses([message["To"] or ""]))
    ]


def part(message: Message, content_type: str) -> str:
    """The decoded text of the message's only part of this type ("text/plain", "text/html")."""
    (found,) = [p for p in message.walk() if p.get_content_type() == content_type]
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    # As a mail program shows it: lines end in "\n", not SMTP's "\r\n".
    return payload.decode(found.get_content_charset() or "utf-8").replace("\r\n", "\n")


def links(message: Message) -> list[str]:
    """The web addresses in the text part, in the order they appear."""
    return LINK.findall(part(message, "text/plain"))
