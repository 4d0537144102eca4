"""The real servers the integration tests talk to: the Redis broker and live workers (the SMTP
sink is tests/smtp.py, which unit tests use too).

The fixtures that start and stop them are in conftest.py; the tests use these classes' methods.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from django.db import connection

# The lock that keeps integration tests on different xdist workers from sharing the broker.
LOCK_KEY = "consultancy:integration-tests:lock"

# Short limits, so a killed worker's batch comes back (and its claims go stale) within a minute
# instead of an hour. A batch of 100 offers takes 1-2 s on loopback; the soft limit is what the
# settings derive (three quarters of the hard one). The visibility timeout must exceed both.
TASK_TIME_LIMIT = 16
TASK_SOFT_TIME_LIMIT = 12
VISIBILITY_TIMEOUT = 20
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
