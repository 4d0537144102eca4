"""Shared fixtures: the three personas, and the rules for tests that need real servers.

Tests marked `postgres` need row locks and real concurrency; on SQLite they are deselected (not
skipped: a skip would hide in CI). `browser` and `integration` tests need Chromium and a broker;
outside CI they are deselected when those are missing, under CI=true a missing one is an error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test import Client as HttpClient
from django.test import TestCase

from billing.models import RateCard
from consultancy.celery import app as celery_app
from consultancy.roles import CONSULTANTS, MANAGERS, ROLE_PERMISSIONS, role_permission_names
from tests.smtp import Inbox, InboxController

# Unit and view tests run tasks in-process; the integration tests start a real worker instead.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True

IN_CI = os.environ.get("CI", "").lower() == "true"

# The suite's clock: Monday 10 March 2025, noon in New York (the practice's time zone), so the
# same calendar day there and in UTC, inside business hours, the day after DST began.
NOW = dt.datetime(2025, 3, 10, 16, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 10)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Who accepts an offer in the tests that are not about the signer.
SIGNER = {"signer_name": "Dana Whitfield", "signer_role": "Office manager"}


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    keep, drop = [], []
    have_chromium = shutil.which(CHROMIUM) is not None
    for item in items:
        if (item.get_closest_marker("postgres") and not _on_postgres()) or (
            item.get_closest_marker("browser") and not have_chromium and not IN_CI
        ):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def now(time_machine: Any) -> dt.datetime:
    """Stop the clock at NOW (tests move it on with time_machine.move_to)."""
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def rate_card(db: None) -> RateCard:
    """The practice's rate card (its row comes from a migration); change it and save()."""
    return RateCard.load()


@pytest.fixture
def password() -> str:
    return "correct horse battery staple"


def _ensure_roles() -> None:
    """Recreate the role groups if a transactional test's flush removed them.

    The groups come from data migrations; `transaction=True` tests end by flushing every table,
    after which post_migrate recreates permissions but not groups. They are rebuilt from
    ROLE_PERMISSIONS, which tests/consultancy/test_roles.py holds equal to the migrations.
    """
    for group_name in ROLE_PERMISSIONS:
        group, created = Group.objects.get_or_create(name=group_name)
        if created:
            names = role_permission_names(group_name)
            permissions = [
                p
                for p in Permission.objects.select_related("content_type")
                if f"{p.content_type.app_label}.{p.codename}" in names
            ]
            group.permissions.set(permissions)


def _user(username: str, password: str, group: str | None) -> User:
    user = User.objects.create_user(
        username=username,
        password=password,
        email=f"{username}@practice.example",
        first_name=username.title(),
        is_staff=group is not None,
    )
    if group:
        _ensure_roles()
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def manager(db: None, password: str) -> User:
    """Alice runs the practice."""
    return _user("alice", password, MANAGERS)


@pytest.fixture
def consultant(db: None, password: str) -> User:
    """Bob works the queue."""
    return _user("bob", password, CONSULTANTS)


@pytest.fixture
def other_consultant(db: None, password: str) -> User:
    return _user("carol", password, CONSULTANTS)


@pytest.fixture
def roleless(db: None, password: str) -> User:
    """Dave has an account but no role."""
    return _user("dave", password, None)


@pytest.fixture
def manager_client(manager: User) -> HttpClient:
    http = HttpClient()
    http.force_login(manager)
    return http


@pytest.fixture
def consultant_client(consultant: User) -> HttpClient:
    http = HttpClient()
    http.force_login(consultant)
    return http


@pytest.fixture
def anon_client() -> HttpClient:
    return HttpClient()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def committed() -> Iterator[None]:
    """Inside a test's transaction, run what the block's changes left for after their commit
    (the outbox's delivery of the emails they wrote) as the block ends, as a commit would."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real SMTP server on loopback that keeps what it is sent (tests/smtp.py)."""
    inbox = Inbox(free_port())
    controller = InboxController(inbox)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
