"""The real servers the integration tests talk to: the Redis broker and live workers (the SMTP
sink is tests/smtp.py, which unit tests use too).

The fixtures that start and stop them are in conftest.py; the tests use these classes' methods.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from celery import Task
from django.conf import settings
from django.db import connection, connections
from pytest_django.fixtures import Settings

from consultancy.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]

# The lock that keeps integration tests on different xdist workers from sharing the broker.
LOCK_KEY = "consultancy:integration-tests:lock"

# Short limits, so a killed worker's batch comes back (and its claims go stale) within a minute
# instead of an hour. A batch of 100 offers takes 1-2 s on loopback; the soft limit is what the
# settings derive (three quarters of the hard one). The visibility timeout must exceed both.
TASK_TIME_LIMIT = 16
TASK_SOFT_TIME_LIMIT = 12
VISIBILITY_TIMEOUT = 20
# The fault tests wait out a dead worker's claims (the hard limit and 30 s): a shorter limit
# still, that a batch of 100 offers (1-2 s) or 50 outbox emails is well inside.
FAULT_TASK_TIME_LIMIT = 10
FAULT_TASK_SOFT_TIME_LIMIT = 7
FAULT_VISIBILITY_TIMEOUT = 12
# The workers' database sessions carry this name, so a test can tell when they are gone.
WORKER_APPLICATION_NAME = "consultancy-integration-worker"


@dataclass(frozen=True)
class Broker:
    url: str
    redis: redis.Redis

    def purge(self) -> None:
        """Drop every queue, unacknowledged message and binding (the lock stays)."""
        for key in self.redis.scan_iter(count=1000):
            if key != LOCK_KEY.encode():
                self.redis.delete(key)

    def unacknowledged(self) -> int:
        """Messages a worker took and has not acknowledged (kombu's ack emulation on Redis)."""
        return int(self.redis.hlen("unacked"))

    def waiting(self) -> int:
        """Messages still in the default queue (kombu keeps one list per priority step)."""
        return sum(
            int(self.redis.llen(key))
            for key in self.redis.scan_iter(match="celery*")
            if self.redis.type(key) == b"list"
        )


class LiveWorker:
    """A Celery worker in a process group of its own, so a kill takes its pool children too."""

    def __init__(self, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # every process of the group is gone
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """Die as in an OOM kill or a lost machine: no warm shutdown, nothing acknowledged."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            self._signal_group(signal.SIGTERM)  # warm shutdown: finish the task, then exit
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        # A pool child can outlive its parent for a moment; nothing of this worker may remain.
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    workers: tuple[LiveWorker, ...] = (),
    interval: float = 0.1,
) -> None:
    """Poll until condition() holds; fail with the workers' logs after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        dead = [w.log_path.name for w in workers if not w.alive]
        if dead or time.monotonic() > deadline:
            problem = f"{', '.join(dead)} exited" if dead else f"not within {timeout:.0f} s"
            logs = "\n".join(f"--- {w.log_path.name}:\n{w.output()}" for w in workers)
            pytest.fail(f"{what}: {problem}\n{logs}")
        time.sleep(interval)


def worker_database_sessions() -> int:
    """The live workers' sessions open on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [WORKER_APPLICATION_NAME],
        )
        return int(cursor.fetchone()[0])


def drop_producer_connections() -> None:
    # The app caches its broker connection and producer pools for the URL it first used; drop
    # them, so the next message goes to the broker configured now (and none leaks afterwards).
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


class ProducerTimeLimits:
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


def worker_database_url() -> str:
    """The test database, for a worker: its sessions named so a test can tell when they end."""
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "", safe="")
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    # NAME is the test database's: pytest-django renamed it before the first test.
    name = db["NAME"]
    return f"postgres://{user}{password}@{host}/{name}?application_name={WORKER_APPLICATION_NAME}"


class LiveWorkers:
    """Starts live workers with one environment (each start may add to it)."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.workers: list[LiveWorker] = []

    def start(
        self, env: Mapping[str, str] | None = None, *, pool: str = "prefork", concurrency: int = 2
    ) -> LiveWorker:
        number = len(self.workers) + 1
        log_path = self.log_dir / f"worker-{number}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
                [sys.executable, "-m", "celery", "--app", "consultancy", "worker",
                 "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO",
                 "--hostname", f"integration-{number}@%h",
                 "--without-heartbeat", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env={**self.env, **(env or {})}, stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: killpg reaches the pool
            )  # fmt: skip
        worker = LiveWorker(process, log_path)
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


@contextlib.contextmanager
def live_workers(
    *,
    overrides: Settings,
    log_dir: Path,
    env: Mapping[str, str],
    time_limit: int,
    soft_time_limit: int,
    visibility_timeout: int,
) -> Iterator[LiveWorkers]:
    """Live workers with these time limits (this process stamps them on what it sends, and
    works out stale claims by them); every one is stopped (or was killed) at the end."""
    limits = ProducerTimeLimits(hard=time_limit, soft=soft_time_limit)
    overrides.CELERY_TASK_TIME_LIMIT = time_limit
    overrides.CELERY_TASK_SOFT_TIME_LIMIT = soft_time_limit
    inherited = {
        key: value
        for key, value in os.environ.items()
        # The broker is the test's to name: these would override it.
        if not key.startswith("CELERY_BROKER_") and key not in ("REDIS_URL", "DJANGO_VAR_DIR")
    }
    workers = LiveWorkers(
        {
            **inherited,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_TIME_LIMIT": str(time_limit),
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "PYTHONUNBUFFERED": "1",
            **env,
        },
        log_dir,
    )
    try:
        yield workers
    finally:
        limits.restore()
        workers.stop()
        # The test database is flushed next and dropped at the end of the run: no session of a
        # worker may be left, and none of this process's either.
        deadline = time.monotonic() + 10
        while worker_database_sessions() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = worker_database_sessions()
        connections.close_all()
        assert not left, f"{left} database sessions of stopped workers are still open"
