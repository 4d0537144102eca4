"""What the benchmarks share: clocks, percentiles, CPU readings, bench databases, Django set-up,
child processes, the SMTP sink, and the summary that ends every run.

Imported as `bench.harness` by `bench/queue.py` and `bench/campaign.py`, after they have put the
project root where Python put `bench/` (see their first lines). Nothing here imports Django at
module level: the parents never set it up, only their children do.

    python -m bench.harness --sink --smtp-port N --control-port M   # the sink's own process
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Client as ControlClient
from multiprocessing.connection import Listener
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432/"
RESULT_PREFIX = "BENCH_RESULT "
SECRET_KEY = "bench-only-secret-key-" + "x" * 40
SINK_AUTHKEY = b"bench-sink"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- Clocks and percentiles ---------------------------------------------------------------------
@dataclass
class Timings:
    """Samples in milliseconds: wall clock, this process's CPU, and (when asked for) the CPU of
    the PostgreSQL backend serving this process."""

    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    backend_cpu_ms: list[float] = field(default_factory=list)


class Stopwatch:
    """Times named pieces of work, keeping every sample: `with watch("fetch"): ...`."""

    def __init__(self, *, backend_cpu: bool = False) -> None:
        self.backend_cpu = backend_cpu
        self.pieces: dict[str, Timings] = {}

    @contextmanager
    def __call__(self, piece: str) -> Iterator[None]:
        timings = self.pieces.setdefault(piece, Timings())
        # The backend's CPU is read with a query, so it is read outside the two clocks.
        backend_started = postgres_backend_cpu_s() if self.backend_cpu else 0.0
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            timings.wall_ms.append((time.perf_counter() - started) * 1000)
            timings.cpu_ms.append((time.process_time() - started_cpu) * 1000)
            if self.backend_cpu:
                timings.backend_cpu_ms.append((postgres_backend_cpu_s() - backend_started) * 1000)


def timed(
    run: Callable[[], object], *, warmup: int, repeat: int, backend_cpu: bool = False
) -> Timings:
    """Time `repeat` runs after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    watch = Stopwatch(backend_cpu=backend_cpu)
    for _ in range(repeat):
        with watch("run"):
            run()
    return watch.pieces["run"]


def percentile(samples: Sequence[float], pct: int) -> float:
    """Return the pct-th percentile (inclusive method: it interpolates between the samples either
    side and never goes past the largest)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[pct - 1]


def p50_p95(samples: Sequence[float], digits: int) -> tuple[float, float]:
    """The median and the 95th percentile, rounded to `digits`."""
    return round(statistics.median(samples), digits), round(percentile(samples, 95), digits)


# --- CPU of processes and of the machine, from /proc (no psutil in the project) -----------------
def _proc_fields(pid: int) -> list[str] | None:
    try:
        # The command name may hold spaces and brackets; the fields start after the last ")".
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def process_cpu_s(pids: Sequence[int]) -> float:
    """User + system CPU seconds the given processes, and their children that ended and were
    waited for, have used so far."""
    total = 0
    for pid in pids:
        if fields := _proc_fields(pid):
            # utime, stime, cutime, cstime (stat fields 14 to 17)
            total += sum(int(f) for f in fields[11:15])
    return total / CLK_TCK


def postgres_cpu_s() -> float:
    """CPU seconds of every PostgreSQL process on this machine, all databases (the postmaster's
    cutime/cstime hold the backends that have exited: Celery closes its connection after every
    task, so the worker's backends come and go)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return process_cpu_s(pids)


def postgres_backend_cpu_s() -> float:
    """CPU seconds used so far by the PostgreSQL backend of this process's Django connection
    (same machine only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return process_cpu_s([pid])


def process_group(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        fields = _proc_fields(int(entry.name)) if entry.name.isdigit() else None
        if fields and int(fields[2]) == pgid:  # pgrp (stat field 5)
            pids.append(int(entry.name))
    return pids


def children_cpu_s() -> float:
    """CPU seconds of this process's children that have ended and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def load_average() -> float:
    """The machine's 1-minute load average."""
    return round(os.getloadavg()[0], 2)


# --- Bench databases ----------------------------------------------------------------------------
def server_url() -> str:
    """The PostgreSQL server the benches create their databases on (BENCH_DATABASE_URL)."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER_URL)


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def maintenance_connection(server: str) -> Any:
    """An autocommit psycopg2 connection to the server's `postgres` database."""
    import psycopg2  # type: ignore[import-untyped]

    conn = psycopg2.connect(database_url(server, "postgres"))
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return conn


def database_exists(server: str, name: str) -> bool:
    conn = maintenance_connection(server)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            return cursor.fetchone() is not None
    finally:
        conn.close()


def _on_database(server: str, statement: str, name: str) -> None:
    from psycopg2 import sql

    conn = maintenance_connection(server)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        conn.close()


def drop_database(server: str, name: str) -> None:
    _on_database(server, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def create_database(server: str, name: str, *, reuse: bool = False) -> None:
    """Create `name` empty (dropping any old one), or with `reuse` keep it if it exists."""
    if reuse and database_exists(server, name):
        return
    drop_database(server, name)
    _on_database(server, "CREATE DATABASE {}", name)


# --- Django in the children ---------------------------------------------------------------------
def django_env(database_url: str, **overrides: str) -> dict[str, str]:
    """The environment of a bench's Django process: production-like (DEBUG off), its own database."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        # DEBUG off, as in production: no query log, cached templates.
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        # Django's test client speaks plain HTTP; production would redirect it to HTTPS.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        # DEBUG off selects the manifest static storage, which needs `collectstatic` first; the
        # TESTING switch keeps plain static URLs, which cost the same to render.
        "DJANGO_TESTING": "true",
        "DJANGO_LOG_LEVEL": "WARNING",
        **overrides,
    }


def run_demo_size(
    script: str | Path,
    server: str,
    name: str,
    tickets: int,
    *,
    reuse: bool,
    profile: bool,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """Seed the demo practice at `tickets` tickets (clients a tenth) in database `name` (fresh
    unless reusing a kept one: seed_demo only fills an empty one) and run `script`'s child on
    it, with `extra` arguments of the script's own; return what the child reported."""
    create_database(server, name, reuse=reuse)
    env = django_env(
        database_url(server, name),
        # Tickets the bench opens send their acknowledgements nowhere.
        EMAIL_URL="dummymail://",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    args = ["--child", "--tickets", str(tickets), "--clients", str(max(1, tickets // 10))]
    if profile:
        args.append("--profile")
    return run_child(script, *args, *extra, env=env)


def profile_requests(get_page: Callable[[], object], *, own_time: bool = False) -> None:
    """Print cProfile's view of 20 requests: by cumulative time (and by own time)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        get_page()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    if own_time:
        stats.sort_stats("tottime").print_stats(25)
    print(f"cProfile of 20 requests (cumulative{', then own time' if own_time else ''}):")
    print(out.getvalue())


def explain_each(sqls: Sequence[str]) -> tuple[list[float], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) each query as sent: each one's execution time in ms (0 for a
    statement other than a SELECT), and the slowest one's plan."""
    from django.db import connection

    times: list[float] = []
    plans: list[list[str]] = []
    with connection.cursor() as cursor:
        for sql in sqls:
            if not sql.lstrip().upper().startswith("SELECT"):
                times.append(0.0)
                plans.append([])
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = [line for (line,) in cursor.fetchall()]
            plans.append(plan)
            executed = [ln for ln in plan if ln.startswith("Execution Time")]
            times.append(float(executed[0].split()[2]) if executed else 0.0)
    slowest = max(range(len(times)), key=times.__getitem__) if times else None
    return times, (plans[slowest] if slowest is not None else [])


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consultancy.settings")
    # WhiteNoise warns that STATIC_ROOT is missing; the benches never serve static files.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()


# --- Child processes ----------------------------------------------------------------------------
def run_child(script: str | Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `python <script> <args>`, pass on what it prints as it prints it, and return the
    result it reported (report_to_parent); stop the bench if it failed."""
    command = [sys.executable, str(Path(script).resolve()), *args]
    found = None
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith(RESULT_PREFIX):
                found = json.loads(line.removeprefix(RESULT_PREFIX))
            else:
                print(line, end="", flush=True)
    if child.returncode != 0 or found is None:
        raise SystemExit(f"bench child {' '.join(args)} failed (exit {child.returncode})")
    return dict(found)


def report_to_parent(result: Any) -> None:
    """Hand a child's result (a dataclass) to run_child in the parent."""
    print(RESULT_PREFIX + json.dumps(asdict(result)), flush=True)


# --- The SMTP sink (its own process) ------------------------------------------------------------
class Inbox:
    """Counts messages per envelope recipient and remembers when each recipient was first seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.total = 0
        self.size = 0
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.counts: dict[str, int] = {}
        self.first_seen: dict[str, float] = {}

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        # CLOCK_MONOTONIC is one clock for every process on the machine, so the parent can set
        # these against the moment the campaign child started.
        arrived = time.monotonic()
        with self.lock:
            self.total += 1
            self.size += len(envelope.content)
            self.last_at = arrived
            if self.first_at is None:
                self.first_at = arrived
            for recipient in envelope.rcpt_tos:
                key = recipient.lower()
                seen = self.counts.get(key, 0)
                self.counts[key] = seen + 1
                if not seen:
                    self.first_seen[key] = arrived
        return "250 OK"

    def _stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "total": self.total,
            "distinct": len(self.counts),
            "size": self.size,
            "first_at": self.first_at,
            "last_at": self.last_at,
        }

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return self._stats()

    def take(self) -> dict[str, Any]:
        """Return everything counted so far and start counting afresh."""
        with self.lock:
            taken = {**self._stats(), "counts": self.counts, "first_seen": self.first_seen}
            self._reset()
            return taken


def serve_sink(smtp_port: int, control_port: int) -> None:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    # server_hostname: without it aiosmtpd calls socket.getfqdn() for every connection.
    controller = Controller(
        inbox, hostname="127.0.0.1", port=smtp_port, server_hostname="sink.bench"
    )
    controller.start()
    with Listener(("127.0.0.1", control_port), authkey=SINK_AUTHKEY) as listener:
        print("SINK_READY", flush=True)
        while True:
            with listener.accept() as conn:
                command = conn.recv()
                if command == "stats":
                    conn.send(inbox.stats())
                elif command == "take":
                    conn.send(inbox.take())
                elif command == "stop":
                    conn.send(True)
                    break
    controller.stop()


def sink_call(control_port: int, command: str) -> Any:
    """Ask the sink for "stats", "take" (counts so far, then start afresh) or "stop"."""
    with ControlClient(("127.0.0.1", control_port), authkey=SINK_AUTHKEY) as conn:
        conn.send(command)
        return conn.recv()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Sink:
    """The SMTP sink in its own process, on loopback; `sink("stats")` asks it over its socket."""

    def __init__(self) -> None:
        self.smtp_port, self.control_port = free_port(), free_port()
        # Run as a module from the project root: bench/ is then not on sys.path, and this
        # directory's queue.py cannot shadow the standard library's for asyncio and friends.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.harness", "--sink",
             "--smtp-port", str(self.smtp_port), "--control-port", str(self.control_port)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "SINK_READY":
            raise RuntimeError("the SMTP sink did not start")

    def __call__(self, command: str) -> Any:
        return sink_call(self.control_port, command)

    def stop(self) -> None:
        try:
            self("stop")
            self.proc.wait(timeout=10)
        except (OSError, EOFError, subprocess.TimeoutExpired):
            self.proc.kill()


# --- The end of a run ---------------------------------------------------------------------------
def print_summary(summary: dict[str, Any], *, not_judged: str) -> None:
    """Print the checks, the notes and the verdict, then the summary as JSON: the last line of
    every bench's output, which is what scripts and docs/performance.md compare."""
    for check, ok in summary["checks"].items():
        print(f"{'ok  ' if ok else 'MISS'} {check}")
    for note in summary["notes"]:
        print(f"note: {note}")
    if summary["pass"] is None:
        print(f"Targets not judged: {not_judged}")
    else:
        print(f"Targets {'MET' if summary['pass'] else 'MISSED'}.")
    print(json.dumps(summary), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The benches' SMTP sink")
    parser.add_argument("--sink", action="store_true", required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    args = parser.parse_args(argv)
    serve_sink(args.smtp_port, args.control_port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
