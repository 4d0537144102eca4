"""The app started as the README's "Production" section says: its environment lines, read from
the README itself, with a fresh secret key, a scratch SQLite database and static folder in place
of the servers. `check --deploy` passes, and gunicorn's real answers carry the security headers.

gunicorn is reached directly over loopback, standing in for the TLS-terminating proxy: a request
"from the proxy" says X-Forwarded-Proto: https, as nginx would.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

PROJECT = Path(__file__).resolve().parents[2]
README = PROJECT / "README.md"
HOST = "crm.example.com"
# Variables of the developer's or CI's shell that are not part of the README's environment.
FOREIGN = re.compile(r"^(DJANGO_|DATABASE_URL$|REDIS_URL$|EMAIL_URL$|CELERY_|TRUSTED_PROXY_COUNT$)")
USER, PASSWORD = "admin", "a-long-production-password-9"


def readme_environment() -> dict[str, str]:
    """The environment lines of the README's Production section."""
    section = README.read_text().split("### Production", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    pairs = [
        tuple(line.split("=", 1)) for line in block.strip().splitlines() if not line.startswith("#")
    ]
    return dict(pairs)


def test_the_readme_documents_every_production_variable():
    documented = readme_environment()

    for name in (
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "REDIS_URL",
        "EMAIL_URL",
        "TRUSTED_PROXY_COUNT",
    ):
        assert name in documented, name
    assert "DJANGO_DEVELOPMENT" not in documented
    assert "DJANGO_DEBUG" not in documented


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The README's environment, the servers swapped for scratch files; migrated, static files
    collected and one user made, as a release is prepared."""
    scratch = tmp_path_factory.mktemp("production")
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    env.update(readme_environment())
    env.update(
        DJANGO_SETTINGS_MODULE="consultancy.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(scratch / "static"),
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
        PYTHONUNBUFFERED="1",
    )
    for command in (
        ["migrate", "--noinput"],
        ["collectstatic", "--noinput"],
        ["createsuperuser", "--noinput", "--username", USER, "--email", "admin@example.com"],
    ):
        _manage(env, *command)
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def test_check_deploy_passes_with_the_documented_environment(production):
    result = _manage(production, "check", "--deploy", "--fail-level", "WARNING")

    assert "no issues" in result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gunicorn(production: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn serving the app as the README starts it; yields its port."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("gunicorn") / "gunicorn.log").open("wb")
    process = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
        [sys.executable, "-m", "gunicorn", "consultancy.wsgi", "--workers", "1",
         "--bind", f"127.0.0.1:{port}"],
        cwd=PROJECT, env=production, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, Path(log.name).read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def _request(
    port: int, method: str, path: str, *, https: bool = True, body: str = "", **headers: str
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"Host": HOST, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if https:
        sent["X-Forwarded-Proto"] = "https"
    if body:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body or None, headers=sent)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    """Each Set-Cookie header by cookie name, whole (attributes and all)."""
    found = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        found[header.split("=", 1)[0]] = header
    return found


def test_a_real_answer_carries_the_security_headers(gunicorn):
    response = _request(gunicorn, "GET", "/accounts/login/")

    assert response.status == 200
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, csp
    assert "unsafe" not in csp
    assert headers["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    csrf = _cookies(response)["csrftoken"]
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert attribute in csrf, csrf


def test_signing_in_sets_a_secure_http_only_session_cookie(gunicorn):
    page = _request(gunicorn, "GET", "/accounts/login/")
    csrf_cookie = _cookies(page)["csrftoken"].split(";", 1)[0]
    token = csrf_cookie.split("=", 1)[1]

    response = _request(
        gunicorn,
        "POST",
        "/accounts/login/",
        body=urlencode({"username": USER, "password": PASSWORD, "csrfmiddlewaretoken": token}),
        Cookie=csrf_cookie,
        Origin=f"https://{HOST}",
        Referer=f"https://{HOST}/accounts/login/",
    )

    assert response.status == 302, response.headers
    session = SimpleCookie(_cookies(response)["sessionid"])["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert int(session["max-age"]) == 60 * 60  # the idle timeout


def test_plain_http_is_redirected_to_https(gunicorn):
    response = _request(gunicorn, "GET", "/accounts/login/?next=/queue/", https=False)

    assert response.status == 301
    assert response.headers["Location"] == f"https://{HOST}/accounts/login/?next=/queue/"


def test_the_health_check_answers_over_plain_http(gunicorn):
    assert _request(gunicorn, "GET", "/healthz", https=False).status == 200


def test_an_unknown_host_is_refused(gunicorn):
    assert _request(gunicorn, "GET", "/accounts/login/", Host="evil.example").status == 400
