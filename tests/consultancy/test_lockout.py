"""Login protection (django-axes, consultancy.lockout): too many failures lock a sign-in out of
both logins, the right password included, until the cool-off ends or a manager unlocks it."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.core import checks
from django.test import Client as HttpClient
from django.urls import reverse

from tests.conftest import NOW
from tests.consultancy.test_settings import _assert_refused, _setting, _start

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
LIMIT = 5  # the default LOGIN_FAILURE_LIMIT
CLIENT = "203.0.113.7"
PROXY = "10.0.0.1"


def _sign_in(http: HttpClient, username: str, password: str, path: str = LOGIN, **headers: str):
    return http.post(path, {"username": username, "password": password}, **headers)


def _fail(http: HttpClient, username: str, times: int, path: str = LOGIN, **headers: str):
    responses = [_sign_in(http, username, "wrong", path, **headers) for _ in range(times)]
    return responses[-1]


def _signed_in(http: HttpClient) -> bool:
    return SESSION_KEY in http.session


@pytest.mark.parametrize("path", [LOGIN, ADMIN_LOGIN], ids=["workspace", "admin"])
def test_the_right_password_is_refused_after_the_failure_limit(now, manager, password, path):
    http = HttpClient(REMOTE_ADDR=CLIENT)

    # Below the limit a wrong password is answered by the form, as always.
    assert _fail(http, manager.username, LIMIT - 1, path).status_code == 200
    assert _fail(http, manager.username, 1, path).status_code == 429

    response = _sign_in(http, manager.username, password, path)

    assert response.status_code == 429
    assert not _signed_in(http)
    # Locked out on one login is locked out on the other.
    other = ADMIN_LOGIN if path == LOGIN else LOGIN
    assert _sign_in(http, manager.username, password, other).status_code == 429


def test_the_lockout_page_says_when_to_try_again_and_whom_to_ask(now, manager):
    http = HttpClient(REMOTE_ADDR=CLIENT)

    response = _fail(http, manager.username, LIMIT)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    content = response.content.decode()
    # NOW is noon in New York; the cool-off is 15 minutes.
    assert "Try again after Mar 10, 12:15 PM EDT" in content
    assert "in 15 minutes" in content
    assert "ask a manager to unlock your account" in content
    assert f'href="{LOGIN}"' in content
    assert response["Retry-After"] == "900"
    assert "no-cache" in response["Cache-Control"]


def test_the_admin_lockout_page_leads_back_to_the_admin_login(now, manager, password):
    http = HttpClient(REMOTE_ADDR=CLIENT)
    _fail(http, manager.username, LIMIT, ADMIN_LOGIN)

    response = _sign_in(http, manager.username, password, ADMIN_LOGIN)

    assert response.status_code == 429
    assert "registration/locked_out.html" in [t.name for t in response.templates]
    assert f'href="{ADMIN_LOGIN}"' in response.content.decode()


def test_trying_again_while_locked_out_does_not_push_the_end_back(now, time_machine, manager):
    http = HttpClient(REMOTE_ADDR=CLIENT)
    _fail(http, manager.username, LIMIT)
    time_machine.move_to(NOW.replace(minute=10), tick=False)

    response = _fail(http, manager.username, 3)

    assert response.status_code == 429
    assert "Try again after Mar 10, 12:15 PM EDT" in response.content.decode()
    assert "in 5 minutes" in response.content.decode()


def test_the_lock_ends_with_the_cool_off(now, time_machine, consultant, password):
    http = HttpClient(REMOTE_ADDR=CLIENT)
    _fail(http, consultant.username, LIMIT)

    time_machine.move_to(NOW.replace(minute=15), tick=False)
    assert _sign_in(http, consultant.username, password).status_code == 429

    time_machine.move_to(NOW.replace(minute=15, second=1), tick=False)
    response = _sign_in(http, consultant.username, password)

    assert response.status_code == 302
    assert _signed_in(http)


def test_the_lock_is_for_that_username_from_that_address(now, manager, consultant, password):
    # Five wrong guesses lock the guesser out, not the account: a stranger elsewhere cannot lock
    # a colleague out with a handful of tries, and the guesser may still sign in as someone else.
    guesser = HttpClient(REMOTE_ADDR=CLIENT)
    _fail(guesser, manager.username, LIMIT)

    assert (
        _sign_in(HttpClient(REMOTE_ADDR="198.51.100.9"), manager.username, password).status_code
        == 302
    )
    assert _sign_in(guesser, consultant.username, password).status_code == 302


def test_an_unknown_username_is_locked_out_the_same_way(now):
    # The same answer whether the account exists or not: the lockout tells nobody which do.
    assert _fail(HttpClient(REMOTE_ADDR=CLIENT), "nobody", LIMIT).status_code == 429


def test_guessing_one_account_from_many_addresses_locks_the_account(now, manager, password):
    # A few guesses from each of many addresses: no pair reaches its limit, but the username's
    # 20 failures (LOGIN_USERNAME_FAILURE_LIMIT) lock it out from everywhere.
    for host in range(4):
        http = HttpClient(REMOTE_ADDR=f"198.51.100.{host + 1}")
        assert _fail(http, manager.username, LIMIT - 1).status_code == 200
    last = HttpClient(REMOTE_ADDR="198.51.100.5")
    assert _fail(last, manager.username, 3).status_code == 200
    assert _fail(last, manager.username, 1).status_code == 429  # the 20th

    response = _sign_in(HttpClient(REMOTE_ADDR=CLIENT), manager.username, password)

    assert response.status_code == 429


def test_trying_many_accounts_from_one_address_locks_the_address(now, manager, password):
    # Password spraying: one guess at each of 20 usernames (LOGIN_ADDRESS_FAILURE_LIMIT).
    sprayer = HttpClient(REMOTE_ADDR=CLIENT)
    for number in range(20):
        _fail(sprayer, f"user{number}", 1)

    assert _sign_in(sprayer, manager.username, password).status_code == 429
    assert (
        _sign_in(HttpClient(REMOTE_ADDR="198.51.100.9"), manager.username, password).status_code
        == 302
    )


def test_the_lock_is_by_the_client_address_behind_a_trusted_proxy(now, settings, manager, password):
    # Every request arrives from the proxy; the address it appended is the client's.
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = HttpClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
    _fail(attacker, manager.username, LIMIT)
    colleague = HttpClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.9")

    assert _sign_in(attacker, manager.username, password).status_code == 429
    assert _sign_in(colleague, manager.username, password).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(
    now, settings, manager, password
):
    # With no proxy vouching for X-Forwarded-For, a new value per request changes nothing: the
    # attempts are counted against the address the connection came from.
    settings.TRUSTED_PROXY_COUNT = 0
    http = HttpClient(REMOTE_ADDR=CLIENT)
    for number in range(LIMIT):
        _sign_in(http, manager.username, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{number + 1}")

    response = _sign_in(http, manager.username, password, HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}


def test_a_successful_sign_in_forgets_the_failures_before_it(now, consultant, password):
    http = HttpClient(REMOTE_ADDR=CLIENT)
    _fail(http, consultant.username, LIMIT - 1)
    assert _sign_in(http, consultant.username, password).status_code == 302
    assert not AccessAttempt.objects.exists()
    http.post(reverse("logout"))

    # Without the reset these would make eight failures: a lockout.
    assert _fail(http, consultant.username, LIMIT - 1).status_code == 200
    assert _sign_in(http, consultant.username, password).status_code == 302


# --- Unlocking --------------------------------------------------------------------------------
CHANGELIST = reverse("admin:axes_accessattempt_changelist")


def _lock_out(username: str) -> None:
    _fail(HttpClient(REMOTE_ADDR=CLIENT), username, LIMIT)
    assert AccessAttempt.objects.filter(username=username).exists()


def test_a_manager_sees_the_locked_out_sign_ins_in_the_admin(now, manager_client, consultant):
    _lock_out(consultant.username)

    response = manager_client.get(CHANGELIST, {"locked_out": "yes"})

    assert response.status_code == 200
    content = response.content.decode()
    assert consultant.username in content
    # The unlock the README describes.
    assert "Delete selected access attempts" in content
    assert manager_client.get(reverse("admin:axes_accesslog_changelist")).status_code == 200


def test_a_manager_unlocks_a_sign_in_in_the_admin(now, manager_client, consultant, password):
    _lock_out(consultant.username)
    attempts = AccessAttempt.objects.filter(username=consultant.username)

    response = manager_client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in attempts.values_list("pk", flat=True)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not attempts.exists()
    response = _sign_in(HttpClient(REMOTE_ADDR=CLIENT), consultant.username, password)
    assert response.status_code == 302


def test_a_consultant_cannot_unlock(now, consultant_client, manager):
    _lock_out(manager.username)
    attempt = AccessAttempt.objects.get(username=manager.username)

    assert consultant_client.get(CHANGELIST).status_code == 403
    response = consultant_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"}
    )
    assert response.status_code == 403
    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert consultant_client.post(delete, {"post": "yes"}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_an_anonymous_visitor_cannot_unlock(now, anon_client, manager):
    _lock_out(manager.username)
    attempt = AccessAttempt.objects.get(username=manager.username)

    delete = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    response = anon_client.post(delete, {"post": "yes"})

    assert response.status_code == 302
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


# --- Configuration ----------------------------------------------------------------------------
LOGIN_VARIABLES = {
    "LOGIN_FAILURE_LIMIT": "",
    "LOGIN_USERNAME_FAILURE_LIMIT": "",
    "LOGIN_ADDRESS_FAILURE_LIMIT": "",
    "LOGIN_COOLOFF_MINUTES": "",
}


def test_the_defaults_are_five_failures_and_a_quarter_hour():
    assert _setting("AXES_FAILURE_LIMIT", **LOGIN_VARIABLES) == 5
    assert _setting("LOGIN_USERNAME_FAILURE_LIMIT", **LOGIN_VARIABLES) == 20
    assert _setting("LOGIN_ADDRESS_FAILURE_LIMIT", **LOGIN_VARIABLES) == 20
    assert _setting("AXES_COOLOFF_TIME", **LOGIN_VARIABLES) == dt.timedelta(minutes=15)


def test_the_limits_and_the_cool_off_come_from_the_environment():
    env = {
        "LOGIN_FAILURE_LIMIT": "3",
        "LOGIN_USERNAME_FAILURE_LIMIT": "50",
        "LOGIN_ADDRESS_FAILURE_LIMIT": "8",
        "LOGIN_COOLOFF_MINUTES": "60",
    }
    assert _setting("AXES_FAILURE_LIMIT", **env) == 3
    assert _setting("LOGIN_USERNAME_FAILURE_LIMIT", **env) == 50
    assert _setting("LOGIN_ADDRESS_FAILURE_LIMIT", **env) == 8
    assert _setting("AXES_COOLOFF_TIME", **env) == dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("LOGIN_FAILURE_LIMIT", "five"),
        ("LOGIN_FAILURE_LIMIT", "²"),
        ("LOGIN_COOLOFF_MINUTES", "0"),
        ("LOGIN_COOLOFF_MINUTES", "-15"),
        ("LOGIN_COOLOFF_MINUTES", "1.5"),
        ("LOGIN_USERNAME_FAILURE_LIMIT", "4"),  # below the pair's own limit of 5
        ("LOGIN_ADDRESS_FAILURE_LIMIT", "100000"),
    ],
)
def test_a_malformed_login_limit_stops_start_up(variable, value):
    _assert_refused(_start(**{**LOGIN_VARIABLES, variable: value}), variable)


def test_axes_finds_its_middleware_last_and_its_backend_first():
    # axes' own system checks (axes.W002, W003, W006) pass; the backend must come first so a
    # locked-out attempt never reaches the password check.
    assert not [m for m in checks.run_checks() if m.id.startswith("axes.")]
    assert django_settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_a_long_username_is_counted_not_answered_with_an_error() -> None:
    # The attempt's username is cut to the longest a user can have: axes records it in a
    # 255-character column, which refused this one on PostgreSQL.
    response = HttpClient().post(LOGIN, {"username": "9" * 400, "password": "wrong"})

    assert response.status_code == 200
    (attempt,) = AccessAttempt.objects.all()
    assert attempt.username == "9" * 150
