"""clients.mime.encode: the same email as Django's own encoding, parsed back header by header and
part by part, for names, values and bodies that make encoders go wrong."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage as ParsedMessage
from email.utils import formataddr
from typing import Any

import pytest
from django.core.mail import BadHeaderError, EmailMessage, EmailMultiAlternatives
from hypothesis import given
from hypothesis import strategies as st

from clients import mime
from clients.mail import Rendered, message, one_line

UNSUBSCRIBE = "<https://crm.example.com/offers/unsubscribe/" + "eyJhbGciOi" * 12 + ":1u2v3w/>"
HEADERS = {
    "List-Unsubscribe": UNSUBSCRIBE,
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    "Message-ID": "<offer-7-offer@crm.example.com>",
}


def offer_like(
    *, subject: str = "Acme Dental: 11% off", name: str = "Dana Whitfield", text: str = "Hi\n",
    html: str = "<p>Hi</p>\n", headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:  # fmt: skip
    """A message shaped as clients.mail.message() builds every email of the practice."""
    return message(
        Rendered(subject=subject, text=text, html=html),
        to=[formataddr((name, "dana@acme.example"))],
        headers=HEADERS if headers is None else headers,
    )


def parse(data: bytes) -> ParsedMessage:
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)
    return parsed


def as_read(data: bytes, *, random_headers: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a mail client reads: the headers, decoded and unfolded, and each part's type and text.
    Left out: the Date (the second it was encoded) and the multipart boundary (random). Space
    around a value is not part of it (Python folds a long link onto a line of its own, and the
    parser keeps the space that began that line)."""
    parsed = parse(data)
    return {
        "headers": [
            (name, str(value).strip()) for name, value in parsed.items()
            if name not in ("Date", "Content-Type", *random_headers)
        ],
        "type": parsed.get_content_type(),
        "parts": [
            (part.get_content_type(), part.get_content_charset(), part.get_content())
            for part in parsed.walk() if not part.is_multipart()
        ],
    }  # fmt: skip


def django_encoding(mail: EmailMessage) -> bytes:
    return mail.message().as_bytes(linesep="\r\n")


def assert_reads_as_django_encodes(
    mail: EmailMessage, *, random_headers: tuple[str, ...] = ()
) -> bytes:
    fast = mime.encode(mail)
    read = as_read(fast, random_headers=random_headers)
    assert read == as_read(django_encoding(mail), random_headers=random_headers)
    assert parse(fast)["Date"] is not None
    return fast


def test_an_offer_shaped_email_reads_as_djangos_encoding_of_it():
    mail = offer_like(
        text="Hello Dana,\n\n    $258.10 a month instead of $290.00\n",
        html="<p>Hello Dana,</p>\n<p><strong>$258.10</strong> a month</p>\n",
    )

    fast = assert_reads_as_django_encodes(mail)

    read = as_read(fast)
    assert read["type"] == "multipart/alternative"
    assert [(t, c) for t, c, _ in read["parts"]] == [
        ("text/plain", "utf-8"),
        ("text/html", "utf-8"),
    ]
    assert dict(read["headers"])["List-Unsubscribe"] == UNSUBSCRIBE
    assert fast.count(b"\r\n") == fast.count(b"\n")  # every line ends in CRLF, as SMTP wants


def test_the_headers_come_in_djangos_order():
    mail = offer_like()

    names = [name for name, _ in parse(mime.encode(mail)).items()]

    assert names == [name for name, _ in parse(django_encoding(mail)).items()]
    assert names[:6] == ["Content-Type", "MIME-Version", "Subject", "From", "To", "Date"]


def test_non_ascii_names_and_subjects_are_encoded_words_and_read_back_the_same():
    mail = offer_like(
        subject="Zoë\u2019s Café Müller GmbH: guaranteed response times, 11% off for loyal clients",
        name="Zoë O'Brien, Jr — Ünïcode",
        text="Grüße, Zoë\n",
        html="<p>Grüße, Zoë</p>",
    )

    fast = assert_reads_as_django_encodes(mail)

    head = fast.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()  # no raw UTF-8 in the headers: SMTPUTF8 is not needed
    read = dict(as_read(fast)["headers"])
    assert read["Subject"].startswith("Zoë\u2019s Café Müller GmbH")
    assert "Zoë O'Brien, Jr — Ünïcode" in read["To"]
    assert b"Content-Transfer-Encoding: 8bit" in fast


def test_a_line_too_long_for_smtp_goes_quoted_printable_and_reads_back_whole():
    long_line = "a=b " * 300 + "é"  # 1,201 characters, '=' the escape character itself
    mail = offer_like(text=f"{long_line}\nshort\n", html=f"<p>{long_line}</p>")

    fast = assert_reads_as_django_encodes(mail)

    assert fast.count(b"Content-Transfer-Encoding: quoted-printable") == 2
    assert max(len(line) for line in fast.split(b"\r\n")) <= 998
    parts = as_read(fast)["parts"]
    assert parts[0][2].replace("\r\n", "\n") == f"{long_line}\nshort\n"


def test_equals_signs_dots_and_mixed_line_ends_survive_as_they_are():
    text = "price=100\r\n.a line starting with a dot\rFrom the start\n=3D is not decoded\n"
    mail = offer_like(text=text, html="<a href='x?a=1&amp;b=2'>=</a>")

    fast = assert_reads_as_django_encodes(mail)

    assert b"Content-Transfer-Encoding: 7bit" in fast
    body = as_read(fast)["parts"][0][2]
    assert (
        body
        == "price=100\r\n.a line starting with a dot\r\nFrom the start\r\n=3D is not decoded\r\n"
    )


def test_a_long_header_is_folded_at_its_spaces_and_unfolds_to_the_same_value():
    subject = "Acme Dental and Sons of the Greater Metropolitan Area: guaranteed response times"
    mail = offer_like(subject=subject, name="A Very Long Contact Name " * 4)

    fast = assert_reads_as_django_encodes(mail)

    head = fast.split(b"\r\n\r\n", 1)[0].decode()
    for line in head.split("\r\n"):
        # Only a line with no space to fold at (the unsubscribe link) may be longer.
        value = line.strip().split(": ", 1)[-1]
        assert len(line) <= mime.HEADER_LINE_LENGTH or " " not in value
    assert dict(as_read(fast)["headers"])["Subject"] == subject


def test_a_line_break_in_a_header_is_refused_as_django_refuses_it():
    mail = offer_like(headers={**HEADERS, "List-Unsubscribe": "<x>\r\nBcc: victim@example.com"})

    with pytest.raises(BadHeaderError):
        mime.encode(mail)
    with pytest.raises(BadHeaderError):
        django_encoding(mail)


def test_the_boundary_is_never_text_of_a_part(monkeypatch):
    taken = "=" * 15 + "0" * 19 + "=="
    picks = iter([0, 1])
    monkeypatch.setattr(mime.random, "randrange", lambda _: next(picks))
    mail = offer_like(text=f"Look: {taken}\n")

    fast = mime.encode(mail)

    monkeypatch.undo()
    assert as_read(fast) == as_read(django_encoding(mail))
    assert f'boundary="{"=" * 15}{1:019d}=="'.encode() in fast


def test_a_message_without_a_date_or_message_id_gets_them_as_django_gives_them():
    mail = offer_like(headers={})

    parsed = parse(assert_reads_as_django_encodes(mail, random_headers=("Message-ID",)))

    assert parsed["Message-ID"] is not None
    assert parsed["Date"] is not None


@pytest.mark.parametrize(
    "mail",
    [
        EmailMessage("Plain", "one part only", to=["a@example.com"], headers=HEADERS),
        EmailMultiAlternatives("No alternative", "text", to=["a@example.com"], headers=HEADERS),
    ],
    ids=["single-part", "no-alternative"],
)
def test_other_shapes_are_left_to_django(mail):
    assert as_read(mime.encode(mail)) == as_read(django_encoding(mail))


def test_an_email_with_an_attachment_is_left_to_django():
    mail = offer_like()
    mail.attach("statement.csv", "month,amount\n2026-10,290.00\n", "text/csv")

    read = as_read(mime.encode(mail))

    assert read == as_read(django_encoding(mail))
    assert read["type"] == "multipart/mixed"


names = st.text(max_size=60).map(one_line)
# Short bodies of any characters, and bodies with a line past SMTP's 998 bytes.
bodies = st.text(max_size=400) | st.text(alphabet="ab=.é \r\n", min_size=999, max_size=1200)


@given(subject=names, name=names, text=bodies, html=bodies)
def test_any_subject_name_and_bodies_read_back_as_djangos_encoding(subject, name, text, html):
    mail = offer_like(subject=subject, name=name, text=text, html=html)

    fast = assert_reads_as_django_encodes(mail)

    assert max(len(line) for line in fast.split(b"\r\n")) <= 998


# Any ASCII but line breaks: runs of spaces, tabs, control characters, long words.
ascii_subjects = st.text(st.characters(max_codepoint=127, exclude_characters="\r\n"), max_size=200)


@given(subject=ascii_subjects)
def test_any_ascii_subject_reads_back_as_djangos_encoding(subject):
    assert_reads_as_django_encodes(offer_like(subject=subject))
