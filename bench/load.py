"""Load-test the app as production runs it: gunicorn and a Celery worker on PostgreSQL and Redis,
the demo practice at 10,000 clients / 100,000 tickets, driven by locust.

A child seeds the demo into a kept database; each run works on a fresh copy of it. The parent
starts an SMTP sink, a Celery worker and gunicorn with the README's production environment, and
the load generator (bench/loadgen.py): 30 users for 60 s, each pausing 1 to 3 s between actions,
consultants and managers mixed; then consultants reloading the queue page with no pause, in steps
of users until its p95 passes 250 ms. Then it waits for every reply's email at the sink. The last
line printed is a JSON summary.

    python bench/load.py [--tickets 100000] [--keep] [--reuse] [--quick]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/) names the PostgreSQL server (the
bench creates consultancy_bench_load_<tickets> and its copy ..._run there); BENCH_LOAD_REDIS_URL
(default redis://127.0.0.1:6379/12) names a Redis database the bench flushes (not 14, the
integration tests' broker, nor 13, the campaign bench's).
"""

from __future__ import annotations

import sys
from pathlib import Path

# As in the other benches: take bench/ off sys.path before anything imports `queue`.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from importlib import metadata  # noqa: E402
from typing import IO, Any  # noqa: E402

from bench import harness  # noqa: E402

DEFAULT_TICKETS = 100_000
QUICK_TICKETS = 1_000
DATABASE_PREFIX = "consultancy_bench_load_"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
LOG_DIR = ROOT / "var" / "bench-load"
LOADGEN = ROOT / "bench" / "loadgen.py"
# gunicorn's documentation: (2 x cores) + 1 sync workers as a starting point.
DEFAULT_WORKERS = 2 * (os.cpu_count() or 1) + 1
WORKER_CONCURRENCY = 2
READY_TIMEOUT_S = 90
EMAIL_STALL_S = 30  # stop waiting for the replies' emails when none arrived for this long
# Targets from the issue.
QUEUE_P95_MS_MAX = 100.0
ERRORS_MAX = 0
CAPACITY_P95_MS = 250.0
ISSUE_FIRST = {"users": 30, "queue_pages_per_s": 68, "queue_p95_ms": 505}
QUEUE_ENDPOINTS = ("GET /queue/", "GET /queue/ (refresh)", "GET /queue/?filters")
# Variables of the caller's shell that are not part of the production environment below.
FOREIGN = re.compile(r"^(DJANGO_|DATABASE_URL$|REDIS_URL$|EMAIL_URL$|CELERY_|TRUSTED_PROXY_COUNT$)")


# --- Child: seed the demo once ---------------------------------------------------------------
@dataclass
class SeedResult:
    tickets: int
    clients: int
    seeded: bool = False  # False: the kept database was reused as it was
    seed_s: float = 0.0
    consultants: list[str] = field(default_factory=list)
    consultant_password: str = ""
    manager: str = ""
    manager_password: str = ""
    open_tickets: int = 0
    queue_tickets: int = 0
    unassigned: int = 0


def seed(tickets: int, clients: int) -> SeedResult:
    # The parent set the environment (harness.django_env): this database, DEBUG off.
    harness.setup_django()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection

    from clients.models import Client
    from consultancy.demo.samples import DEMO_USERS
    from consultancy.roles import CONSULTANTS
    from tickets.models import Ticket

    result = SeedResult(tickets=tickets, clients=clients)
    call_command("migrate", verbosity=0, interactive=False)
    if not Client.objects.exists():
        started = time.monotonic()
        call_command("seed_demo", clients=clients, tickets=tickets, stdout=sys.stderr)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        result.seeded, result.seed_s = True, round(time.monotonic() - started, 1)
    people = User.objects.filter(groups__name=CONSULTANTS, is_active=True).order_by("pk")
    result.consultants = list(people.values_list("username", flat=True))
    # The demo's sign-ins: the manager first, then consultants sharing one password.
    (result.manager, result.manager_password), result.consultant_password = (
        DEMO_USERS[0][:2],
        DEMO_USERS[1][1],
    )
    result.open_tickets = Ticket.objects.open().count()
    result.queue_tickets = Ticket.objects.actionable().count()
    result.unassigned = Ticket.objects.actionable().unassigned().count()
    return result


# --- Parent: servers --------------------------------------------------------------------------
class Service:
    """A server process in its own process group (so its workers stop with it), logging to a
    file under var/bench-load/."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self.log: IO[bytes] = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait(self, ready: Any) -> float:
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT_S:
            if self.proc.poll() is not None:
                break
            if ready():
                return round(time.monotonic() - started, 1)
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not start:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def server_env(database_url: str, redis_url: str, smtp_port: int, port: int) -> dict[str, str]:
    """The README's production environment (section "Production"), pointed at this machine's
    servers: DEBUG off, HTTPS redirect and secure cookies on, one trusted proxy."""
    env = {k: v for k, v in os.environ.items() if not FOREIGN.match(k)}
    origin = f"https://127.0.0.1:{port}"
    env.update(
        DJANGO_SETTINGS_MODULE="consultancy.settings",
        DJANGO_SECRET_KEY=harness.SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_CSRF_TRUSTED_ORIGINS=origin,
        SITE_URL=origin,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        # The load generator stands in for the TLS proxy: it sets X-Forwarded-Proto and
        # X-Forwarded-For on every request, as nginx would.
        TRUSTED_PROXY_COUNT="1",
        DJANGO_STATIC_ROOT=str(LOG_DIR / "static"),
        DJANGO_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def start_servers(env: dict[str, str], port: int, workers: int, services: list[Service]) -> None:
    """collectstatic, then the worker and gunicorn, each added to `services` once started (so
    that the caller stops what did start, should the other fail)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    worker = Service(
        "worker",
        [sys.executable, "-m", "celery", "--app", "consultancy", "worker",
         "--concurrency", str(WORKER_CONCURRENCY), "--loglevel", "INFO",
         "--hostname", "bench-load@%h", "--without-gossip", "--without-mingle"],
        {**env, "DJANGO_LOG_LEVEL": "INFO"},  # its log says when it is ready
    )  # fmt: skip
    services.append(worker)
    print(f"   worker ready in {worker.wait(lambda: b' ready.' in worker.log_path.read_bytes())} s")
    web = Service(
        "gunicorn",
        # No control socket: gunicorn's default one is a single path per user account, which
        # another gunicorn on the machine (a test's) would take over.
        [sys.executable, "-m", "gunicorn", "consultancy.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        env,
    )  # fmt: skip
    services.append(web)
    print(f"   gunicorn ({workers} workers) answers in {web.wait(lambda: healthy(port))} s")


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def copy_database(server: str, template: str, name: str) -> None:
    from psycopg2 import sql

    harness.drop_database(server, name)
    conn = harness.maintenance_connection(server)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
    finally:
        conn.close()


def wait_for_emails(sink: harness.Sink, expected: int) -> int:
    """Wait until the sink holds `expected` messages (or nothing came for EMAIL_STALL_S), then a
    moment more for late duplicates; return what it holds."""
    last, since = -1, time.monotonic()
    while time.monotonic() - since < EMAIL_STALL_S:
        total = int(sink("stats")["total"])
        if total >= expected:
            break
        if total != last:
            last, since = total, time.monotonic()
        time.sleep(0.5)
    time.sleep(2)
    return int(sink("stats")["total"])


def versions(server: str) -> dict[str, str]:
    conn = harness.maintenance_connection(server)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (postgres,) = cursor.fetchone()
    finally:
        conn.close()
    found = {"python": sys.version.split()[0], "postgresql": str(postgres)}
    for package in ("django", "gunicorn", "celery", "locust"):
        found[package] = metadata.version(package)
    return found


# --- Parent: the run --------------------------------------------------------------------------
def drive_config(
    args: argparse.Namespace, seeded: SeedResult, port: int, pgids: dict[str, int]
) -> dict[str, Any]:
    quick = args.quick
    return {
        "host": f"http://127.0.0.1:{port}",
        "consultants": seeded.consultants,
        "consultant_password": seeded.consultant_password,
        "manager": seeded.manager,
        "manager_password": seeded.manager_password,
        "pgids": pgids,
        "users": args.users,
        "seconds": 15.0 if quick else args.seconds,
        "warmup_s": 2.0 if quick else 5.0,
        "steps": [5, 10, 20] if quick else [int(s) for s in args.steps.split(",")],
        "step_s": 5.0 if quick else args.step_seconds,
        "p95_limit_ms": CAPACITY_P95_MS,
    }


def run(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Seed (or reuse), serve, drive; return the summary and the load generator's result."""
    server = harness.server_url()
    redis_url = os.environ.get("BENCH_LOAD_REDIS_URL", DEFAULT_REDIS_URL)
    tickets = QUICK_TICKETS if args.quick else args.tickets
    kept = f"{DATABASE_PREFIX}{tickets}"
    copy = f"{kept}_run"  # each run works on a fresh copy of the kept, seeded database
    load_before = harness.load_average()
    print(f"== {tickets:,} tickets: seeding {kept} (or reusing it); load average {load_before}")
    seeded = SeedResult(
        **harness.run_demo_size(__file__, server, kept, tickets, reuse=args.reuse, profile=False)
    )
    print(
        f"   {'seeded in ' + str(seeded.seed_s) + ' s' if seeded.seeded else 'reused as it was'}; "
        f"{len(seeded.consultants)} consultants, {seeded.open_tickets:,} open tickets, "
        f"{seeded.queue_tickets:,} in the working line ({seeded.unassigned:,} unassigned)"
    )
    copy_database(server, kept, copy)
    flush_redis(redis_url)
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    sink = harness.Sink()
    port = harness.free_port()
    env = server_env(harness.database_url(server, copy), redis_url, sink.smtp_port, port)
    services: list[Service] = []
    try:
        print("== servers: collectstatic, Celery worker, gunicorn")
        start_servers(env, port, args.workers, services)
        worker, web = services
        config = drive_config(
            args, seeded, port, {"gunicorn": web.proc.pid, "worker": worker.proc.pid}
        )
        drive = harness.run_child(LOADGEN, "--config", json.dumps(config))
        print(f"== emails: waiting for {drive['replies_accepted']} replies at the sink")
        emails = wait_for_emails(sink, drive["replies_accepted"])
        errors_logged = web.log_path.read_text(errors="replace").count("Traceback")
    finally:
        for service in reversed(services):
            service.stop()
        sink.stop()
        harness.drop_database(server, copy)
        if not (args.keep or args.reuse):
            harness.drop_database(server, kept)
    summary = summarise(
        args, seeded, drive, emails=emails, errors_logged=errors_logged, load_before=load_before,
        versions=versions(server),
    )  # fmt: skip
    return summary, drive


# --- Parent: the summary ----------------------------------------------------------------------
def capacity_point(
    steps: list[dict[str, Any]],
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The first step whose queue p95 passed the limit, and the last one before it within it."""
    within = None
    for step in steps:
        p95 = step["endpoints"].get("GET /queue/", {}).get("p95_ms", 0.0)
        if p95 > CAPACITY_P95_MS:
            return step, within
        within = step
    return None, within


def step_figures(step: dict[str, Any] | None) -> dict[str, Any] | None:
    if step is None:
        return None
    queue = step["endpoints"].get("GET /queue/", {})
    return {
        "users": step["users"],
        "queue_pages_per_s": queue.get("rps", 0.0),
        "queue_p50_ms": queue.get("p50_ms"),
        "queue_p95_ms": queue.get("p95_ms"),
        **{k: step[k] for k in ("errors", "cores", "load_avg")},
    }


def summarise(
    args: argparse.Namespace, seeded: SeedResult, drive: dict[str, Any], *, emails: int,
    errors_logged: int, load_before: float, versions: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    mixed, steps = drive["mixed"], drive["capacity"]
    endpoints = mixed["endpoints"]
    checks: dict[str, bool] = {}
    notes: list[str] = []
    checks[f"{mixed['errors']} errors at {mixed['users']} users with waits (<= {ERRORS_MAX})"] = (
        mixed["errors"] <= ERRORS_MAX
    )
    for name in QUEUE_ENDPOINTS:
        p95 = endpoints.get(name, {}).get("p95_ms")
        checks[f"{name} p95 {p95} ms <= {QUEUE_P95_MS_MAX:g} ms"] = (
            p95 is not None and p95 <= QUEUE_P95_MS_MAX
        )
    checks[
        f"every sign-in succeeded ({drive['logins_ok']} ok, {drive['logins_failed']} failed)"
    ] = drive["logins_failed"] == 0
    checks[
        f"every reply's email delivered once ({drive['replies_accepted']} replies, {emails} emails)"
    ] = emails == drive["replies_accepted"]
    checks[f"no traceback in gunicorn's log ({errors_logged})"] = errors_logged == 0
    checks[f"no error in the simulated users ({drive['task_errors']})"] = drive["task_errors"] == 0
    passed_at, within = capacity_point(steps)
    if passed_at is None:
        notes.append(
            f"the queue p95 never passed {CAPACITY_P95_MS:g} ms up to {steps[-1]['users']} users"
        )
    if capacity_errors := sum(s["errors"] for s in steps):
        notes.append(f"{capacity_errors} errors during the capacity steps")
    if load_before > 1.0:
        notes.append(
            f"load average {load_before} before the bench started: the machine was not idle"
        )
    if busy := [s["users"] for s in [mixed, *steps] if s["cores"].get("other", 0) > 0.2]:
        notes.append(f"other processes used more than 0.2 cores during the windows at {busy} users")
    if args.quick:
        notes.append(
            f"quick mode ({QUICK_TICKETS:,} tickets, short windows): a smoke run, not the figures of record"
        )
    thirty = next((s for s in steps if s["users"] == 30), None)
    return {
        "bench": "load",
        "tickets": seeded.tickets,
        "clients": seeded.clients,
        "quick": args.quick,
        "gunicorn_workers": args.workers,
        "worker_concurrency": WORKER_CONCURRENCY,
        "cores": os.cpu_count(),
        "load_avg_before": load_before,
        "versions": versions,
        "mixed": {
            **{k: mixed[k] for k in ("users", "seconds", "requests", "rps", "errors")},
            "wait_s": [1, 3],
            **{k: mixed[k] for k in ("cores", "load_avg")},
            "endpoints": {
                k: {f: v[f] for f in ("n", "errors", "p50_ms", "p95_ms")}
                for k, v in endpoints.items()
            },
        },
        "capacity": {
            "p95_limit_ms": CAPACITY_P95_MS,
            "passed_at": step_figures(passed_at),
            "last_within": step_figures(within),
            "at_30_users": step_figures(thirty),
            "issue_first_measurement": ISSUE_FIRST,
            "steps": [
                [
                    s["users"],
                    s["endpoints"].get("GET /queue/", {}).get("rps"),
                    s["endpoints"].get("GET /queue/", {}).get("p95_ms"),
                    s["errors"],
                ]
                for s in steps
            ],
        },
        "emails": {"replies": drive["replies_accepted"], "delivered": emails},
        "targets": {"errors_max": ERRORS_MAX, "queue_p95_ms_max": QUEUE_P95_MS_MAX},
        "checks": checks,
        "notes": notes,
        "pass": all(checks.values()),
    }


def report(summary: dict[str, Any], drive: dict[str, Any]) -> None:
    mixed = summary["mixed"]
    print(
        f"== mixed, {mixed['users']} users pausing 1-3 s: {mixed['requests']} requests in "
        f"{mixed['seconds']} s ({mixed['rps']} /s), {mixed['errors']} errors; load {mixed['load_avg']}"
    )
    print(f"   {'endpoint':34} {'n':>5} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8}")
    for name, e in mixed["endpoints"].items():
        print(f"   {name:34} {e['n']:>5} {e['errors']:>6} {e['p50_ms']:>8} {e['p95_ms']:>8}")
    for name, example in drive["mixed"]["error_examples"].items():
        print(f"   first error of {name}: {example}")
    for example in drive["task_error_examples"]:
        print(f"   error in a simulated user: {example}")
    print("== capacity: users reloading the queue page with no pause")
    print(f"   {'users':>5} {'pages/s':>8} {'p95 ms':>8} {'errors':>6}")
    for users, rps, p95, errors in summary["capacity"]["steps"]:
        print(f"   {users:>5} {rps or 0:>8} {p95 or 0:>8} {errors:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS, help="clients are a tenth")
    parser.add_argument("--users", type=int, default=30, help="users of the mixed phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="the mixed phase's window")
    parser.add_argument(
        "--steps", default="5,10,15,20,30,40,60,80,100", help="capacity steps (users)"
    )
    parser.add_argument("--step-seconds", type=float, default=20.0, help="each step's window")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept one (implies --keep)")
    parser.add_argument("--quick", action="store_true", help="1,000 tickets, short: a smoke run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        harness.report_to_parent(seed(args.tickets, args.clients))
        return 0

    # Fixed database names and a Redis database it flushes: one load bench at a time.
    lock = (Path(tempfile.gettempdir()) / "consultancy-bench-load.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit("another bench/load.py is running on this machine") from None
    summary, drive = run(args)
    report(summary, drive)
    harness.print_summary(summary, not_judged="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
