"""Encoding an email for SMTP without the email package's generator, for mail sent in bulk.

Django turns an EmailMessage into bytes through `email.mime` objects and the standard library's
generator, which parses every header again to fold it and walks the tree of parts: about 1 ms of
CPU a message, the largest cost of sending offers by the thousand. The practice's emails are one
shape, a text body with an HTML alternative, and `encode()` writes that shape directly: the same
headers in the same order, encoded by Django's own function (`forbid_multi_line_headers`: no line
breaks, encoded words for non-ASCII), and each part in the transfer encoding Django would pick
(7bit or 8bit, quoted-printable when a line is too long for SMTP). Any other shape (attachments,
a single part, another charset, a subclass) goes through Django.
"""

from __future__ import annotations

import random
import re
import sys
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    forbid_multi_line_headers,
    utf8_charset_qp,
)
from django.core.mail.utils import DNS_NAME
from django.utils.encoding import force_str

CRLF = "\r\n"
# RFC 5322 2.1.1: a header line SHOULD keep to 78 characters (and MUST keep to 998).
HEADER_LINE_LENGTH = 78
# Headers EmailMessage.message() sets itself and so skips among the extra headers.
SET_FROM_FIELDS = {"from", "to", "cc", "reply-to"}
NEWLINE = re.compile(r"\r\n|\r|\n")


def encode(message: EmailMessage) -> bytes:
    """The message as SMTP carries it (CRLF line ends), as Django's SMTP backend would send it."""
    if not _is_text_with_alternatives(message):
        return message.message().as_bytes(linesep=CRLF)
    assert isinstance(message, EmailMultiAlternatives)
    encoding = "utf-8"  # the only charset this path writes (Charset's name for it)
    parts = [(force_str(message.body), message.content_subtype)] if message.body else []
    parts += [
        (force_str(content), mimetype.split("/", 1)[1])
        for content, mimetype in message.alternatives
    ]
    bodies = [_part(content, subtype, encoding) for content, subtype in parts]
    boundary = _boundary(bodies)
    head = [
        f"Content-Type: multipart/{message.alternative_subtype};",
        f' boundary="{boundary}"',
        "MIME-Version: 1.0",
        *(_header(name, value, encoding) for name, value in _headers(message)),
    ]
    delimiter = f"{CRLF}--{boundary}{CRLF}"
    text = (
        CRLF.join(head)
        + f"{CRLF}{CRLF}--{boundary}{CRLF}"
        + delimiter.join(bodies)
        + f"{CRLF}--{boundary}--{CRLF}"
    )
    return text.encode(encoding)


def _is_text_with_alternatives(message: EmailMessage) -> bool:
    encoding = message.encoding or settings.DEFAULT_CHARSET
    return (
        # A subclass may build its message differently.
        type(message) is EmailMultiAlternatives
        and encoding.lower() == "utf-8"
        and not message.attachments
        and bool(message.alternatives)
        and all(mimetype.startswith("text/") for _, mimetype in message.alternatives)
    )


def _headers(message: EmailMultiAlternatives) -> list[tuple[str, str]]:
    """The top-level headers in EmailMessage.message()'s order, before encoding."""
    extra = message.extra_headers
    headers = [("Subject", str(message.subject)), ("From", extra.get("From", message.from_email))]
    for name, addresses in (("To", message.to), ("Cc", message.cc), ("Reply-To", message.reply_to)):
        if name in extra:
            headers.append((name, extra[name]))
        elif addresses:
            headers.append((name, ", ".join(str(a) for a in addresses)))
    named = {name.lower() for name in extra}
    if "date" not in named:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in named:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [(n, v) for n, v in extra.items() if n.lower() not in SET_FROM_FIELDS]
    return headers


def _header(name: str, value: object, encoding: str) -> str:
    value = str(value)
    if value.isascii() and "\n" not in value and "\r" not in value:
        # What Django's function below gives for it, once unfolded, without its 0.1 ms.
        return _fold(name, value)
    # Django's own check and encoding: a line break in a value raises BadHeaderError (no header
    # injection); non-ASCII becomes encoded words. A subject comes back folded ("\n" before a
    # space) as if it had no name in front; unfolded, it is folded again with its name.
    name, encoded = forbid_multi_line_headers(name, value, encoding)
    return _fold(name, encoded.replace("\n", ""))


def _fold(name: str, value: str) -> str:
    """`name: value`, folded before spaces to keep lines to 78 characters where a space allows.

    Unfolding (taking out each CRLF) gives the value back. A word longer than a line stays whole;
    it goes on a line of its own only if it fits there (an encoded word does, a long link not).
    """
    line = f"{name}: {value}"
    if len(line) <= HEADER_LINE_LENGTH:
        return line
    lines, current = [], f"{name}:"
    for word in value.split(" "):
        if (
            word
            and len(current) + 1 + len(word) > HEADER_LINE_LENGTH
            and (current != f"{name}:" or 1 + len(word) <= HEADER_LINE_LENGTH)
        ):
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    return CRLF.join(lines)


def _part(content: str, subtype: str, encoding: str) -> str:
    """One text part, its headers as EmailMultiAlternatives writes them, lines ending in CRLF."""
    data = content.encode(encoding)
    # SMTP caps a line at 998 bytes; quoted-printable shortens long lines (Django, #22561).
    if len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT and any(
        len(line) > RFC5322_EMAIL_LINE_LENGTH_LIMIT for line in data.splitlines()
    ):
        transfer, content = "quoted-printable", utf8_charset_qp.body_encode(content)
    else:
        transfer = "7bit" if content.isascii() else "8bit"
    body = content.replace("\n", CRLF) if "\r" not in content else NEWLINE.sub(CRLF, content)
    return (
        f'Content-Type: text/{subtype}; charset="{encoding}"{CRLF}'
        f"MIME-Version: 1.0{CRLF}"
        f"Content-Transfer-Encoding: {transfer}{CRLF}{CRLF}"
        f"{body}"
    )


def _boundary(bodies: list[str]) -> str:
    # As the standard library's generator makes one: random, and in no part.
    while True:
        boundary = "=" * 15 + f"{random.randrange(sys.maxsize):019d}" + "=="
        if not any(boundary in body for body in bodies):
            return boundary
