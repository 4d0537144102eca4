"""Passwords inside server URLs never reach the debug error page, an error report or a log."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.test import Client as HttpClient
from django.urls import path
from kombu import Connection

from consultancy.safety import MaskUrlPasswords, mask_url_passwords

SECRETS = ("db-secret-1", "redis-secret-2", "mail-secret-3", "broker-secret-4")
DATABASE_URL = "postgres://crm:db-secret-1@db.internal:5432/consultancy"
REDIS_URL = "redis://:redis-secret-2@redis.internal:6379/0"
EMAIL_URL = "smtp+tls://service%40example.com:mail-secret-3@smtp.example.com:587"
BROKER_URL = "rediss://worker:broker-secret-4@broker.internal:6380/1"


@login_not_required
def _failing_view(request: HttpRequest) -> HttpResponse:
    # What a driver error looks like: the URL in a local variable and in the message.
    url = DATABASE_URL
    options = {"broker": BROKER_URL, "mail": [EMAIL_URL]}
    raise ConnectionError(f"could not reach {url} ({options['broker']})")


urlpatterns = [path("boom/", _failing_view)]


@pytest.fixture
def server_urls(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The URLs set as a deployment sets them: in the environment (runserver copies it into every
    request) and in the settings that hold them."""
    for name, value in (
        ("DATABASE_URL", DATABASE_URL),
        ("REDIS_URL", REDIS_URL),
        ("EMAIL_URL", EMAIL_URL),
        ("CELERY_BROKER_URL", BROKER_URL),
    ):
        monkeypatch.setenv(name, value)
    settings.REDIS_URL = REDIS_URL
    settings.CELERY_BROKER_URL = BROKER_URL
    settings.EMAIL_HOST_PASSWORD = "mail-secret-3"
    settings.CACHE_URL_FOR_TEST = f"x {DATABASE_URL} y"  # any setting with a URL inside
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_the_debug_error_page_shows_no_password(server_urls: None, accept: str) -> None:
    import os

    http = HttpClient(raise_request_exception=False, HTTP_ACCEPT=accept)
    response = http.get("/boom/", **{k: v for k, v in os.environ.items() if k.endswith("_URL")})

    assert response.status_code == 500
    page = response.content.decode()
    assert "could not reach" in page  # the technical page, not a bare 500
    assert "Request information" in page or "META" in page
    for secret in SECRETS:
        assert secret not in page, secret
    # Masked, not dropped: which server it was stays readable.
    assert "db.internal" in page


def test_an_error_email_shows_no_password(server_urls: None, settings: Any, mailoutbox) -> None:
    settings.DEBUG = False
    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.LOGGING_CONFIG = None

    from django.utils.log import AdminEmailHandler

    logger = logging.getLogger("django.request")
    handler = AdminEmailHandler(include_html=True)
    logger.addHandler(handler)
    try:
        HttpClient(raise_request_exception=False).get("/boom/")
    finally:
        logger.removeHandler(handler)

    (mail,) = mailoutbox
    text = mail.body + "".join(str(a[0]) for a in mail.alternatives)
    assert "could not reach" in text
    for secret in SECRETS:
        assert secret not in text, secret


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (DATABASE_URL, "postgres://crm:********@db.internal:5432/consultancy"),
        (REDIS_URL, "redis://:********@redis.internal:6379/0"),
        (EMAIL_URL, "smtp+tls://service%40example.com:********@smtp.example.com:587"),
        ("at redis://u:p@ss@h:1/0 now", "at redis://u:********@h:1/0 now"),
        ("postgres://crm@db:5432/x", "postgres://crm@db:5432/x"),
        ("http://127.0.0.1:8000/path?a=b@c", "http://127.0.0.1:8000/path?a=b@c"),
    ],
)
def test_mask_url_passwords(text: str, masked: str) -> None:
    assert mask_url_passwords(text) == masked


def _record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ConnectionError(f"refused by {REDIS_URL}")
        except ConnectionError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord("kombu", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_a_log_line_with_a_url_is_masked() -> None:
    record = _record("Cannot connect to %s: %s", BROKER_URL, "refused", exc=True)

    assert MaskUrlPasswords().filter(record)
    line = logging.Formatter("%(message)s").format(record)

    assert "rediss://worker:********@broker.internal:6380/1" in line
    for secret in SECRETS:
        assert secret not in line


def test_the_root_handlers_mask_what_they_write(capsys: pytest.CaptureFixture[str]) -> None:
    # settings.LOGGING's console handler, as configured at start-up.
    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert any(isinstance(f, MaskUrlPasswords) for f in console.filters)


def test_kombu_masks_the_broker_password_it_logs_at_start_up() -> None:
    # The worker's banner and kombu's "Connected to ..." both print Connection.as_uri().
    shown = Connection(BROKER_URL).as_uri()

    assert "broker-secret-4" not in shown
    assert "broker.internal" in shown
