"""Fixtures for the integration tests: Redis as the broker and live Celery workers reading the
test database (the classes are in servers.py; the SMTP sink, `inbox`, is in tests/conftest.py).

The workers run with short time limits (servers.py says why these), so a batch whose worker was
killed is redelivered, and its claims go stale, within about a minute instead of an hour.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from celery import Task
from django.conf import settings
from django.db import connections
from pytest_django.fixtures import Settings

from consultancy.celery import app as celery_app
from tests.conftest import IN_CI
from tests.integration.servers import (
    LOCK_KEY,
    TASK_SOFT_TIME_LIMIT,
    TASK_TIME_LIMIT,
    VISIBILITY_TIMEOUT,
    WORKER_APPLICATION_NAME,
    Broker,
    LiveWorker,
    worker_database_sessions,
)
from tests.smtp import Inbox

ROOT = Path(__file__).resolve().parents[2]

# The CI names its own Redis database in REDIS_URL; a developer's machine gets a dedicated one.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Longer than any integration test runs; a crashed run's lock expires by itself.
LOCK_SECONDS = 300


def _drop_producer_connections() -> None:
    # The app caches its broker connection and producer pools for the URL it first used; drop
    # them, so the next message goes to the broker configured now (and none leaks afterwards).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


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
        _drop_producer_connections()
        celery_app.conf.update(
            broker_url=url,
            broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
            task_always_eager=False,
        )
        # CELERY_BROKER_URL in the environment would win over the configuration.
        assert celery_app.conf.broker_write_url == url
        yield broker
    finally:
        _drop_producer_connections()
        celery_app.conf.update(saved)
        broker.purge()
        # A lock that expired (the test ran past LOCK_SECONDS) has nothing to release.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()
        client.close()


class _ProducerTimeLimits:
    """Make this process stamp the workers' time limits on the messages it sends.

    A worker enforces the limits the sender wrote into each message, and the sender's tasks took
    theirs from its settings when the app was finalised. In production the web process and the
    worker share one environment; here the sender is this test process, so its tasks get the
    workers' limits for the duration (and their own back afterwards).
    """

    def __init__(self, *, hard: int, soft: int) -> None:
        self._saved = {
            task: (task.time_limit, task.soft_time_limit) for task in celery_app.tasks.values()
        }
        for task in self._saved:
            self._set(task, hard, soft)

    @staticmethod
    def _set(task: Task, hard: int | None, soft: int | None) -> None:
        task.time_limit, task.soft_time_limit = hard, soft
        task._exec_options = None  # the cached send options, limits included

    def restore(self) -> None:
        for task, (hard, soft) in self._saved.items():
            self._set(task, hard, soft)


def _worker_database_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    # NAME is the test database's: pytest-django renamed it before the first test.
    name = db["NAME"]
    return f"postgres://{user}{password}@{host}/{name}?application_name={WORKER_APPLICATION_NAME}"


@pytest.fixture
def start_worker(
    broker: Broker, inbox: Inbox, tmp_path: Path, settings: Settings
) -> Iterator[Callable[..., LiveWorker]]:
    """Start live workers on demand; every one is stopped (or was killed) by teardown."""
    limits = _ProducerTimeLimits(hard=TASK_TIME_LIMIT, soft=TASK_SOFT_TIME_LIMIT)
    # This process works out when claims go stale too (to run the sweeper): same limits.
    settings.CELERY_TASK_TIME_LIMIT = TASK_TIME_LIMIT
    settings.CELERY_TASK_SOFT_TIME_LIMIT = TASK_SOFT_TIME_LIMIT
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CELERY_BROKER_")  # they would override REDIS_URL
    }
    env.update(
        DATABASE_URL=_worker_database_url(),
        REDIS_URL=broker.url,
        EMAIL_URL=f"smtp://127.0.0.1:{inbox.port}",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_TASK_TIME_LIMIT=str(TASK_TIME_LIMIT),
        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT),
        PYTHONUNBUFFERED="1",
    )
    workers: list[LiveWorker] = []

    def start(*, pool: str = "prefork", concurrency: int = 2) -> LiveWorker:
        number = len(workers) + 1
        log_path = tmp_path / f"worker-{number}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
                [sys.executable, "-m", "celery", "--app", "consultancy", "worker",
                 "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
                 "--hostname", f"integration-{number}@%h",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: killpg reaches the pool
            )  # fmt: skip
        worker = LiveWorker(process, log_path)
        workers.append(worker)
        return worker

    try:
        yield start
    finally:
        limits.restore()
        for worker in workers:
            worker.stop()
        # The test database is flushed next and dropped at the end of the run: no session of a
        # worker may be left, and none of this process's either.
        deadline = time.monotonic() + 10
        while worker_database_sessions() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = worker_database_sessions()
        connections.close_all()
        assert not left, f"{left} database sessions of stopped workers are still open"
