"""Keep the passwords inside URLs (DATABASE_URL, REDIS_URL, EMAIL_URL, the broker's) off the
debug error page, out of error emails and out of the logs; and end a signed-in session left
idle (IdleTimeoutMiddleware, at the end).

A URL's password is the part between `user:` and `@`; it is replaced by `********`, the rest of
the URL stays readable (which server, which database). Settings and request variables named like
a server URL are hidden whole, as Django already hides anything named like a key or password.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponseBase
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

MASK = "********"
# scheme://user:password@ (the user may be empty: redis://:password@host). The password runs to
# the last @ before the host, so one with an unescaped @ in it is masked whole.
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)[^\s/?#]*@", re.IGNORECASE)


def mask_url_passwords(text: str) -> str:
    """`text` with every password inside a URL replaced by MASK."""
    # str(): a lazy string (django-csp's nonce on the request) passes isinstance(str) but is no
    # string to the re module.
    return _URL_PASSWORD.sub(rf"\g<head>{MASK}@", str(text))


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_url_passwords(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_masked(v) for v in value)
    text = repr(value)
    masked = mask_url_passwords(text)
    return value if masked == text else _Shown(masked)


class _Shown:
    """An object the debug page shows by its (masked) repr."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class SecretUrlFilter(SafeExceptionReporterFilter):
    """DEFAULT_EXCEPTION_REPORTER_FILTER: Django's, plus server URLs hidden and every password
    inside a URL masked, in settings, request variables (runserver copies the environment into
    them) and the local variables of each frame."""

    hidden_settings = re.compile(
        r"API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE"
        r"|DATABASE_URL|REDIS_URL|EMAIL_URL|BROKER|_DSN$",
        flags=re.IGNORECASE,
    )

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        # Django's recursion into dicts and lists calls this again for each item.
        cleansed = super().cleanse_setting(key, value)
        return mask_url_passwords(cleansed) if isinstance(cleansed, str) else cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, _masked(value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class SecretUrlReporter(ExceptionReporter):
    """DEFAULT_EXCEPTION_REPORTER: the exception's own message is masked too (a driver's error
    may quote the URL it was given)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if isinstance(data.get("exception_value"), str):
            data["exception_value"] = mask_url_passwords(data["exception_value"])
        for frame in data.get("frames", []):
            if isinstance(frame.get("exc_cause"), BaseException):
                frame["exc_cause"] = mask_url_passwords(str(frame["exc_cause"]))
        return data


class MaskUrlPasswords(logging.Filter):
    """A logging filter (on the root handlers, settings.LOGGING): the message, with its
    arguments, and any traceback are masked before a handler writes the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_url_passwords(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_url_passwords(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_url_passwords(record.stack_info)
        return True


# --- Session idle timeout --------------------------------------------------------------------------
# A session lasts SESSION_COOKIE_AGE (DJANGO_SESSION_IDLE_MINUTES) from its last renewal. Saving it
# on every request (SESSION_SAVE_EVERY_REQUEST) would write the session row on every page and every
# refresh of the queue; renewing at most once a RENEW_EVERY costs one write a minute at most, and
# ends an idle session between IDLE - RENEW_EVERY and IDLE after its last use.
RENEWED = "_idle_renewed_at"
RENEW_EVERY = 60  # seconds


def mark_renewed(session: Any) -> None:
    """At sign-in (consultancy.apps connects it to user_logged_in): the session starts fresh."""
    session[RENEWED] = int(time.time())


class IdleTimeoutMiddleware:
    """After AuthenticationMiddleware: a signed-in session used again is renewed (saved, so its
    expiry and its cookie's run IDLE from now) when its last renewal is RENEW_EVERY old."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        session = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            renewed = session.get(RENEWED)
            if not isinstance(renewed, int) or time.time() - renewed >= RENEW_EVERY:
                mark_renewed(session)
        return self.get_response(request)
