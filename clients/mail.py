"""How every email of the practice is built and retried, whichever app sends it.

A message is three templates: `emails/<name>_subject.txt`, `emails/<name>.txt` and
`emails/<name>.html`, rendered with the same context (plus the practice's name and address).
It lives at the bottom layer so that every app's emails read and behave alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from smtplib import SMTPException
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

# What a mail server throws when it is down or slow. SoftTimeLimitExceeded: a batch that ran
# out of time has handed its unsent messages back; retrying sends them now.
EMAIL_ERRORS = (SMTPException, OSError, SoftTimeLimitExceeded)

# The one retry policy of every task that sends email (`@shared_task(**EMAIL_RETRY)`):
# exponential backoff from 5 s up to 15 minutes, with jitter, for about two hours in all.
EMAIL_RETRY: dict[str, Any] = {
    "autoretry_for": EMAIL_ERRORS,
    "retry_backoff": 5,
    "retry_backoff_max": 900,
    "retry_jitter": True,
    "max_retries": 10,
}


def one_line(value: str) -> str:
    """Collapse all whitespace: a name with a line break must never start a new mail header."""
    return " ".join(value.split())


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: Mapping[str, object]) -> Rendered:
    """Render the three templates of email `name`."""
    context = {**context, "practice_name": settings.PRACTICE_NAME, "site_url": settings.SITE_URL}
    return Rendered(
        subject=one_line(render_to_string(f"emails/{name}_subject.txt", context)),
        text=render_to_string(f"emails/{name}.txt", context),
        html=render_to_string(f"emails/{name}.html", context),
    )


def message(
    rendered: Rendered, *, to: list[str], headers: dict[str, str] | None = None
) -> EmailMultiAlternatives:
    """An email from rendered parts, from the practice's address."""
    email = EmailMultiAlternatives(
        subject=one_line(rendered.subject),
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=headers or {},
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def render_email(
    name: str,
    context: Mapping[str, object],
    *,
    to: list[str],
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """Render email `name` for `to`."""
    return message(render(name, context), to=to, headers=headers)
