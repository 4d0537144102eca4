"""Production is the default; development mode (DJANGO_DEVELOPMENT=true) only where the
development entry points set it, and the app says so on every page while it is on."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.consultancy.test_settings import PROJECT, _assert_refused, _setting, _start
from tests.factories import OfferFactory

KEY = "k" * 50
PRODUCTION = {"DJANGO_DEVELOPMENT": "", "DJANGO_SECRET_KEY": KEY}


def _production(name: str, **env: str) -> object:
    return _setting(name, **{**PRODUCTION, **env})


def test_without_development_mode_a_secret_key_is_required():
    _assert_refused(_start(DJANGO_DEVELOPMENT=""), "DJANGO_SECRET_KEY")
    _assert_refused(_start(DJANGO_DEVELOPMENT="false", DJANGO_DEBUG="false"), "DJANGO_SECRET_KEY")


def test_debug_cannot_be_turned_on_outside_development_mode():
    _assert_refused(_start(**PRODUCTION, DJANGO_DEBUG="true"), "DJANGO_DEBUG")


def test_production_defaults_are_the_strict_ones():
    assert _production("DEBUG") is False
    assert _production("DEVELOPMENT") is False
    assert _production("SECRET_KEY") == KEY
    assert _production("SECURE_SSL_REDIRECT") is True
    assert _production("SECURE_HSTS_SECONDS") == 31_536_000
    assert _production("SECURE_HSTS_INCLUDE_SUBDOMAINS") is True
    assert _production("SECURE_HSTS_PRELOAD") is True
    assert _production("SESSION_COOKIE_SECURE") is True
    assert _production("CSRF_COOKIE_SECURE") is True
    assert _production("STORAGES")["staticfiles"]["BACKEND"].startswith("whitenoise")  # type: ignore[index]


def test_development_mode_has_debug_a_built_in_key_and_plain_http():
    assert _setting("DEBUG") is True
    assert _setting("SECRET_KEY").startswith("insecure-development-key")  # type: ignore[union-attr]
    assert _setting("SECURE_SSL_REDIRECT") is False
    assert _setting("SESSION_COOKIE_SECURE") is False
    assert _setting("SECURE_HSTS_SECONDS") == 0
    # Debug pages can be turned off inside development mode, and a given key is used.
    assert _setting("DEBUG", DJANGO_DEBUG="false") is False
    assert _setting("SECRET_KEY", DJANGO_SECRET_KEY=KEY) == KEY


def test_the_built_in_key_appears_only_in_the_development_branch():
    source = (PROJECT / "consultancy" / "settings.py").read_text()

    assert source.count("insecure-development-key") == 1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"TRUSTED_PROXY_COUNT": "1"}, ("HTTP_X_FORWARDED_PROTO", "https")),
        ({"DJANGO_SECURE_PROXY_SSL_HEADER": "true"}, ("HTTP_X_FORWARDED_PROTO", "https")),
        ({"TRUSTED_PROXY_COUNT": "1", "DJANGO_SECURE_PROXY_SSL_HEADER": "false"}, None),
    ],
)
def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(env, expected):
    if expected is None:
        with pytest.raises(KeyError):
            _production("SECURE_PROXY_SSL_HEADER", **env)
    else:
        assert _production("SECURE_PROXY_SSL_HEADER", **env) == expected


def test_https_settings_follow_the_environment_for_a_tls_terminating_proxy():
    assert _production("SECURE_SSL_REDIRECT", DJANGO_SECURE_SSL_REDIRECT="false") is False
    assert _production("SECURE_HSTS_SECONDS", DJANGO_SECURE_HSTS_SECONDS="300") == 300
    assert _production("SECURE_HSTS_PRELOAD", DJANGO_SECURE_HSTS_PRELOAD="no") is False
    assert (
        _production("SECURE_HSTS_INCLUDE_SUBDOMAINS", DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="0")
        is False
    )
    _assert_refused(_start(**PRODUCTION, DJANGO_SECURE_HSTS_SECONDS="a year"), "HSTS_SECONDS")


def test_the_session_idle_timeout_is_an_hour_unless_configured():
    assert _setting("SESSION_COOKIE_AGE") == 3600
    assert _setting("SESSION_COOKIE_AGE", DJANGO_SESSION_IDLE_MINUTES="15") == 900


@pytest.mark.parametrize("value", ["0", "forever", "²", "-5", "1441"])
def test_an_idle_timeout_that_is_not_a_number_of_minutes_is_refused(value):
    _assert_refused(_start(DJANGO_SESSION_IDLE_MINUTES=value), "DJANGO_SESSION_IDLE_MINUTES")


def test_the_test_settings_are_in_development_mode():
    assert settings.DEVELOPMENT is True


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_runs_every_command_in_development_mode_and_make_migrate_does_not():
    def commands(target: str) -> list[str]:
        result = subprocess.run(  # noqa: S603 (fixed arguments)
            ["make", "--dry-run", "--always-make", target],  # noqa: S607
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        )
        return [
            line for line in result.stdout.splitlines() if re.search(r"manage\.py|honcho", line)
        ]

    run = commands("run")
    assert len(run) == 3
    assert all(line.startswith("DJANGO_DEVELOPMENT=true ") for line in run), run
    assert not any("DJANGO_DEVELOPMENT" in line for line in commands("migrate"))


# --- The banner ----------------------------------------------------------------------------------
BANNER = '<aside class="development-banner" aria-label="Development mode">'


def test_every_kind_of_page_says_development_mode_is_on(
    db: None, anon_client: HttpClient, manager_client: HttpClient, now: Any
) -> None:
    from offers.tokens import offer_token

    offer = OfferFactory()
    pages = [
        (anon_client, reverse("login")),
        (anon_client, reverse("admin:login")),
        (anon_client, reverse("offers:offer", args=[offer_token(offer)])),
        (anon_client, reverse("offers:unsubscribe", args=[offer_token(offer, "unsubscribe")])),
        (manager_client, reverse("tickets:queue")),
        (manager_client, reverse("insights:dashboard")),
        (manager_client, reverse("billing:invoices")),
        (manager_client, reverse("admin:index")),
        (manager_client, reverse("admin:clients_client_changelist")),
    ]
    for http, url in pages:
        page = http.get(url).content.decode()
        assert page.count(BANNER) == 1, url


def test_no_banner_outside_development_mode(
    settings: Any, anon_client: HttpClient, manager_client: HttpClient
) -> None:
    settings.DEVELOPMENT = False

    assert BANNER not in anon_client.get(reverse("login")).content.decode()
    assert BANNER not in manager_client.get(reverse("admin:index")).content.decode()


# --- The session idle timeout --------------------------------------------------------------------
def _expiry(http: HttpClient) -> dt.datetime:
    return Session.objects.get(
        session_key=http.cookies[settings.SESSION_COOKIE_NAME].value
    ).expire_date


def test_a_session_left_idle_for_the_timeout_is_over(
    now: dt.datetime, time_machine: Any, consultant: Any, settings: Any
) -> None:
    settings.SESSION_COOKIE_AGE = 60 * 60  # the production default, which the suite lengthens
    consultant_client = HttpClient()
    consultant_client.force_login(consultant)
    queue = reverse("tickets:queue")
    assert consultant_client.get(queue).status_code == 200
    signed_in_until = _expiry(consultant_client)
    assert signed_in_until == now + dt.timedelta(hours=1)

    # Used again within the minute: nothing written.
    time_machine.move_to(now + dt.timedelta(seconds=30), tick=False)
    with django_assert_no_session_write():
        assert consultant_client.get(queue).status_code == 200
    assert _expiry(consultant_client) == signed_in_until

    # Used 50 minutes in: renewed for another hour from then.
    later = now + dt.timedelta(minutes=50)
    time_machine.move_to(later, tick=False)
    assert consultant_client.get(queue).status_code == 200
    assert _expiry(consultant_client) == later + dt.timedelta(hours=1)

    # Then left for an hour: signed out.
    time_machine.move_to(later + dt.timedelta(minutes=61), tick=False)
    response = consultant_client.get(queue)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


class django_assert_no_session_write:
    def __enter__(self) -> None:
        self.context = CaptureQueriesContext(connection)
        self.context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.context.__exit__(*exc)
        writes = [
            q["sql"]
            for q in self.context.captured_queries
            if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")
        ]
        assert writes == []
