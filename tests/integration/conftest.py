"""Fixtures for the integration tests: Redis as the broker and live Celery workers reading the
test database (the classes are in servers.py; the SMTP sink, `inbox`, is in tests/conftest.py);
and for the fault tests, brokers of their own (a private Redis they may stop, the embedded
filesystem transport in a temporary folder) with workers on shorter limits still.

The workers run with short time limits (servers.py says why these), so a batch whose worker was
killed is redelivered, and its claims go stale, within about a minute instead of an hour.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from pytest_django.fixtures import Settings

from consultancy.celery import app as celery_app
from tests.conftest import IN_CI
from tests.integration.faults import FaultBroker, publishing_to
from tests.integration.private_servers import private_redis
from tests.integration.servers import (
    FAULT_TASK_SOFT_TIME_LIMIT,
    FAULT_TASK_TIME_LIMIT,
    FAULT_VISIBILITY_TIMEOUT,
    LOCK_KEY,
    TASK_SOFT_TIME_LIMIT,
    TASK_TIME_LIMIT,
    VISIBILITY_TIMEOUT,
    Broker,
    LiveWorker,
    LiveWorkers,
    drop_producer_connections,
    live_workers,
    worker_database_url,
)
from tests.smtp import Inbox

# The CI names its own Redis database in REDIS_URL; a developer's machine gets a dedicated one.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Longer than any integration test runs; a crashed run's lock expires by itself.
LOCK_SECONDS = 300


@pytest.fixture
def broker() -> Iterator[Broker]:
    """Redis, purged, with this process's producer sending to it instead of running eagerly."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        reason = f"the integration tests need Redis at {url}: {exc}"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    # Integration tests on different xdist workers would share this database and its queue.
    lock = client.lock(LOCK_KEY, timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS)
    if not lock.acquire():
        client.close()
        pytest.fail(f"another integration test held {LOCK_KEY} for {LOCK_SECONDS} s")
    broker = Broker(url=url, redis=client)
    saved = {
        key: celery_app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_always_eager")
    }
    try:
        broker.purge()
        drop_producer_connections()
        celery_app.conf.update(
            broker_url=url,
            broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
            task_always_eager=False,
        )
        # CELERY_BROKER_URL in the environment would win over the configuration.
        assert celery_app.conf.broker_write_url == url
        yield broker
    finally:
        drop_producer_connections()
        celery_app.conf.update(saved)
        broker.purge()
        # A lock that expired (the test ran past LOCK_SECONDS) has nothing to release.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()
        client.close()


@pytest.fixture
def start_worker(
    broker: Broker, inbox: Inbox, tmp_path: Path, settings: Settings
) -> Iterator[Callable[..., LiveWorker]]:
    """Start live workers on demand; every one is stopped (or was killed) by teardown."""
    env = {
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": broker.url,
        "EMAIL_URL": f"smtp://127.0.0.1:{inbox.port}",
    }
    with live_workers(
        overrides=settings,
        log_dir=tmp_path,
        env=env,
        time_limit=TASK_TIME_LIMIT,
        soft_time_limit=TASK_SOFT_TIME_LIMIT,
        visibility_timeout=VISIBILITY_TIMEOUT,
    ) as workers:
        yield workers.start


# --- The fault tests' own brokers and workers ----------------------------------------------------
@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[FaultBroker]:
    """A Redis of the test's own as the broker of this process and of the workers it starts
    (`fault_workers.start(private_broker.env)`): the test may stop and start it."""
    directory = tmp_path / "redis"
    directory.mkdir()
    with private_redis(directory) as server:
        broker = FaultBroker(env={"REDIS_URL": server.url()}, redis=server)
        with publishing_to(broker):
            yield broker


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[FaultBroker]:
    """kombu's filesystem transport, as without REDIS_URL, in a folder of the test's own that
    this process and the workers it starts share (DJANGO_VAR_DIR)."""
    broker = FaultBroker(env={"DJANGO_VAR_DIR": str(tmp_path / "var")})
    with publishing_to(broker):
        yield broker


@pytest.fixture
def fault_workers(inbox: Inbox, tmp_path: Path, settings: Settings) -> Iterator[LiveWorkers]:
    """Live workers on the test database (unless a start says otherwise) sending to `inbox`,
    with the fault tests' short time limits; the broker is named at each start."""
    env = {"DATABASE_URL": worker_database_url(), "EMAIL_URL": f"smtp://127.0.0.1:{inbox.port}"}
    with live_workers(
        overrides=settings,
        log_dir=tmp_path,
        env=env,
        time_limit=FAULT_TASK_TIME_LIMIT,
        soft_time_limit=FAULT_TASK_SOFT_TIME_LIMIT,
        visibility_timeout=FAULT_VISIBILITY_TIMEOUT,
    ) as workers:
        yield workers
