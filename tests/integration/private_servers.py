"""Servers a fault test may stop: its own Redis and PostgreSQL, on free loopback ports.

The machine's shared Redis and PostgreSQL serve every other test (and, on a developer's machine,
everything else); a fault test never stops those. It starts its own here, in a temporary
directory, and stops or restarts that one. Both come from the Debian packages the CI machine has
(`redis-server`, PostgreSQL's `initdb` and `pg_ctl`). Without them the test is skipped, except in
CI, where a missing server fails the run like any other.

PostgreSQL refuses to run as root: as root (the CI machine), its cluster belongs to the
`postgres` user and its commands run as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
START_TIMEOUT_S = 30


def free_port() -> int:
    """A port nothing listens on now (the OS picks it; a race with another process is unlikely
    on loopback in a test run, and a clash fails loudly at start)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def need(program: str | None, what: str) -> str:
    """The program's path; skip the test without it (fail in CI)."""
    if program is None:
        message = f"{what} is not installed"
        if IN_CI:
            pytest.fail(f"CI needs {what}: {message}")
        pytest.skip(message)
    return program


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {START_TIMEOUT_S} s")


class PrivateRedis:
    """A Redis of this test's own: `stop()` and `start()` it at will, on the same port."""

    def __init__(self, directory: Path) -> None:
        self.program = need(shutil.which("redis-server"), "redis-server")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        # Persistence on: a stop and start keeps the queued messages, as a restarted Redis with
        # its default snapshot does; a message lost by Redis itself is not this test's subject.
        command = [
            self.program,
            "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        """Stop it (SIGTERM: Redis writes its append-only file and exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=START_TIMEOUT_S)
        self.process = None


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own, with `restart()` for a test to pull the rug."""

    def __init__(self) -> None:
        bin_dir = next((d for d in POSTGRES_BIN_DIRS if (d / "pg_ctl").exists()), None)
        self.bin = Path(need(str(bin_dir) if bin_dir else None, "PostgreSQL's server programs"))
        # Its own directory under /tmp: pytest's tmp_path is private to the user running the
        # tests, and the cluster's owner must be able to reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="consultancy-postgres-"))
        self.data = self.directory / "data"
        self.port = free_port()
        self.owner = "postgres" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", self.owner, "--"] if self.owner else []
        subprocess.run(  # noqa: S603 (our own argv, no shell)
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> None:
        self.data.mkdir(parents=True)
        if self.owner:
            entry = pwd.getpwnam(self.owner)
            for path in (self.directory, self.data):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
            " -c fsync=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), action, "-D", str(self.data), "-w",
            "-t", str(START_TIMEOUT_S), "-l", str(self.directory / "server.log"),
            "-o", options, *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        """Stop it the fast way (every session is cut, as in a failover) and start it again."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def private_redis(directory: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop()
