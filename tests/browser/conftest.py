"""A real browser: Playwright driving Debian's Chromium (Playwright never downloads its own)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client as HttpClient
from pytest_django.fixtures import Settings

from tests.browser.strict import serve_under_policy
from tests.conftest import CHROMIUM
from tests.smtp import Inbox

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _pictures_as_in_production(settings: Settings) -> None:
    """Screenshots saved for the docs (SAVE_SCREENSHOTS_TO) show the app as it runs in
    production: without the development-mode banner, which is the one thing the setting changes
    on a page. In an ordinary run the banner stays, and axe checks it with the rest."""
    if os.environ.get("SAVE_SCREENSHOTS_TO"):
        settings.DEVELOPMENT = False


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser for a module's tests (starting Chromium costs most of a second); each test
    gets a context of its own, so no cookie or storage passes from one test to the next."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread while the browser lives; the ORM
    # calls the tests make between browser steps are still plain synchronous code. Every test
    # of a module that uses this fixture is a browser test.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def browser_page(chromium: Any, live_server: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        # Inside Playwright's event loop the test body got a connection of its own; close it,
        # or the test database cannot be dropped at the end of the run.
        connections.close_all()
        context.close()


@pytest.fixture
def consultant_page(browser_page: Any, live_server: Any, consultant: User) -> Any:
    """The browser signed in as the consultant (by session cookie: no login form to go through)."""
    http = HttpClient()
    http.force_login(consultant)
    session = http.cookies[settings.SESSION_COOKIE_NAME].value
    browser_page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    return browser_page


@pytest.fixture
def strict_page(browser_page: Any) -> Iterator[Any]:
    """The browser with every page served under the strict CSP (tests/browser/strict.py);
    yields, then checks that the browser refused nothing and no script failed."""
    refused = serve_under_policy(browser_page)
    yield browser_page
    assert refused == []


@pytest.fixture
def mail_server(settings: Settings, inbox: Inbox, live_server: Any) -> Inbox:
    """Every email the app sends goes over SMTP to a real server on loopback (tests/smtp.py),
    from the test and from the live server alike, with links to the live server in it: a
    client follows them as written."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", inbox.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SITE_URL = live_server.url
    return inbox
