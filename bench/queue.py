"""Benchmark the priority queue page on PostgreSQL at 1,000, 10,000 and 100,000 tickets.

For each size a fresh database is created, migrated and filled by `seed_demo` in a child
process (settings read DATABASE_URL once, at import), which then times GET /queue/ in process
(200 requests after a warm-up), counts its queries, times the raw SQL of the page's main query
as a reference, and EXPLAINs it. The last line printed is a JSON summary.

    python bench/queue.py [--sizes 1000,10000,100000] [--keep] [--reuse] [--profile]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/) names the server; the bench
creates and drops its own databases there (consultancy_bench_<tickets>).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/queue.py`, Python puts bench/ first on sys.path, and this file would then
# shadow the standard library's `queue` module (imported by kombu and celery). Swap that entry
# for the project root before importing anything that might import `queue`; the shared
# harness is then `bench.harness`.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from bench import harness  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
WARMUP = 20
REQUESTS = 200
PAGE_URL = "/queue/"
USERNAME = "consultant"  # a demo consultant created by seed_demo
# Targets from the issue, at 100,000 tickets.
P95_100K_MS_MAX = 40.0
RATIO_MAX = 1.5
PLAN_EXCERPT_LINES = 12
FULL_LINE = 60  # open tickets every size gets, so that every page shows 50 rows
BUSY_WALL_TO_CPU = 1.5


@dataclass
class SizeResult:
    tickets: int
    clients: int
    open_tickets: int = 0
    queue_tickets: int = 0  # new + in progress: what the working line holds
    topped_up: int = 0  # tickets opened to give the page a full 50 rows
    seed_s: float = 0.0
    rows_shown: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    # CPU time of this process per request: the page's Python cost without the database's
    # share and without time lost to other processes on a busy machine.
    cpu_p50_ms: float = 0.0
    cpu_p95_ms: float = 0.0
    load_avg: float = 0.0  # 1-minute load average when the timing ended
    queries: int = 0
    query_list: list[str] = field(default_factory=list)
    sql_p50_ms: float = 0.0
    sql_p95_ms: float = 0.0
    index_used: bool = False
    sort_node: bool = False
    plan: list[str] = field(default_factory=list)
    sql: str = ""


# --- Child: one database, one size -------------------------------------------------------------
def _queue_rows(html: bytes) -> int:
    """Count the ticket rows in the page's queue table body."""
    body = html.partition(b'id="queue-rows"')[2].partition(b"</tbody>")[0]
    return body.count(b"<tr") - body.count(b'<tr id="show-more"')


def _walk_plan(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk_plan(child)


def _fill_line(wanted: int) -> int:
    """Open tickets (through the real service) until the working line holds `wanted`.

    A practice with 1,000 tickets a year has about 15 open at a time, so its queue page shows 15
    rows while the 100,000-ticket page shows 50; comparing those would measure rows rendered, not
    data size. Every size is therefore measured with a full page. Returns how many were opened.
    """
    from clients.models import Client
    from tickets.models import Ticket
    from tickets.services import ticket_open

    missing = wanted - Ticket.objects.actionable().count()
    clients = list(Client.objects.active().order_by("pk")[: max(missing, 0)])
    for n in range(max(missing, 0)):
        ticket_open(
            client=clients[n % len(clients)], subject=f"Bench ticket {n}", priority="normal"
        )
    return max(missing, 0)


def measure_size(tickets: int, clients: int, profile: bool) -> SizeResult:
    # The parent set the environment (harness.django_env): this database, DEBUG off.
    harness.setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Ticket

    result = SizeResult(tickets=tickets, clients=clients)
    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    call_command("seed_demo", clients=clients, tickets=tickets, stdout=sys.stderr)
    result.seed_s = round(time.monotonic() - started, 1)
    result.topped_up = _fill_line(FULL_LINE)
    with connection.cursor() as cursor:
        # Fresh statistics and visibility map, as autovacuum would leave a live database.
        cursor.execute("VACUUM ANALYZE")
    result.open_tickets = Ticket.objects.open().count()
    result.queue_tickets = Ticket.objects.actionable().count()

    browser = Client()
    browser.force_login(get_user_model().objects.get(username=USERNAME))

    def get_page() -> None:
        response = browser.get(PAGE_URL)
        if response.status_code != 200:
            raise RuntimeError(f"GET {PAGE_URL} answered {response.status_code}")

    first = browser.get(PAGE_URL)
    result.rows_shown = _queue_rows(first.content)
    if first.status_code != 200 or result.rows_shown != min(50, result.queue_tickets):
        raise RuntimeError(
            f"queue page looks wrong: status {first.status_code}, {result.rows_shown} rows"
        )

    page = harness.timed(get_page, warmup=WARMUP, repeat=REQUESTS)
    result.p50_ms, result.p95_ms = harness.p50_p95(page.wall_ms, 2)
    result.cpu_p50_ms, result.cpu_p95_ms = harness.p50_p95(page.cpu_ms, 2)
    result.load_avg = harness.load_average()

    with CaptureQueriesContext(connection) as captured:
        get_page()
    result.queries = len(captured.captured_queries)
    result.query_list = [q["sql"][:160] for q in captured.captured_queries]
    # The page's main query: the one that reads the ticket table with LIMIT 51 (50 + "more?").
    # psycopg2 reports the exact statement sent, parameters inlined, so it can be re-run as is.
    main = [
        q["sql"]
        for q in captured.captured_queries
        if 'FROM "tickets_ticket"' in q["sql"] and re.search(r"LIMIT \d+", q["sql"])
    ]
    if len(main) != 1:
        raise RuntimeError(f"expected one LIMIT query on tickets_ticket, found {len(main)}")
    result.sql = main[0]

    with connection.cursor() as cursor:

        def run_sql() -> None:
            cursor.execute(result.sql)
            cursor.fetchall()

        raw_sql = harness.timed(run_sql, warmup=WARMUP, repeat=REQUESTS)
        result.sql_p50_ms, result.sql_p95_ms = harness.p50_p95(raw_sql.wall_ms, 3)

        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {result.sql}")
        (plan_json,) = cursor.fetchone()
        nodes = list(_walk_plan(plan_json[0]["Plan"]))
        result.index_used = any(n.get("Index Name") == "ticket_queue_idx" for n in nodes)
        result.sort_node = any(n["Node Type"] in {"Sort", "Incremental Sort"} for n in nodes)
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {result.sql}")
        result.plan = [line for (line,) in cursor.fetchall()]

    if profile:
        harness.profile_requests(get_page)
    return result


# --- Parent: databases and the summary ---------------------------------------------------------
def database_name(tickets: int) -> str:
    return f"consultancy_bench_{tickets}"


def run_size(server_url: str, tickets: int, *, reuse: bool, profile: bool) -> SizeResult:
    name = database_name(tickets)
    return SizeResult(
        **harness.run_demo_size(__file__, server_url, name, tickets, reuse=reuse, profile=profile)
    )


def report(result: SizeResult) -> None:
    print(
        f"== {result.tickets:,} tickets, {result.clients:,} clients "
        f"({result.open_tickets:,} open, {result.queue_tickets:,} in the working line; "
        f"seeded in {result.seed_s}s)"
    )
    print(
        f"   page  GET {PAGE_URL} ({result.rows_shown} rows): "
        f"p50 {result.p50_ms:.2f} ms, p95 {result.p95_ms:.2f} ms "
        f"({REQUESTS} requests after {WARMUP} warm-up; load average {result.load_avg})"
    )
    print(
        f"         CPU of this process: p50 {result.cpu_p50_ms:.2f} ms, "
        f"p95 {result.cpu_p95_ms:.2f} ms; {result.queries} queries:"
    )
    for sql in result.query_list:
        print(f"         - {sql}")
    print(
        f"   raw SQL of the 50 rows: p50 {result.sql_p50_ms:.3f} ms, p95 {result.sql_p95_ms:.3f} ms"
    )
    print(f"   plan: ticket_queue_idx used: {result.index_used}; sort node: {result.sort_node}")
    for line in result.plan[:PLAN_EXCERPT_LINES]:
        print(f"     {line}")
    for line in result.plan:
        if line.startswith(("Planning Time", "Execution Time")):
            print(f"     {line}")


def summarise(results: list[SizeResult]) -> dict[str, Any]:
    by_size = {r.tickets: r for r in results}
    big, small = by_size.get(100_000), by_size.get(1_000)
    ratio = ratio_10k = cpu_ratio = None
    checks: dict[str, bool] = {}
    notes: list[str] = []
    if big:
        checks[f"p95 at 100k {big.p95_ms:.2f} ms <= {P95_100K_MS_MAX:g} ms"] = (
            big.p95_ms <= P95_100K_MS_MAX
        )
        checks["plan at 100k reads ticket_queue_idx"] = big.index_used
        checks["plan at 100k has no sort"] = not big.sort_node
        if small:
            ratio = round(big.p95_ms / small.p95_ms, 3)
            # The same comparison in this process's CPU time, which other processes on a busy
            # machine disturb far less than the wall clock.
            cpu_ratio = round(big.cpu_p50_ms / small.cpu_p50_ms, 3)
            checks[f"p95 ratio 100k/1k {ratio:.2f} <= {RATIO_MAX:g}"] = ratio <= RATIO_MAX
            if small.rows_shown != big.rows_shown:
                notes.append(
                    f"the 1k page shows {small.rows_shown} rows and the 100k page "
                    f"{big.rows_shown}: the ratio also measures rendering the extra rows"
                )
        if middle := by_size.get(10_000):
            # Same page size (50 rows) at both ends: the ratio that isolates data volume.
            ratio_10k = round(big.p95_ms / middle.p95_ms, 3)
    # The page spends a few ms waiting for PostgreSQL; much more than that off the CPU means
    # other processes held the cores, and the wall-clock figures measure the machine.
    if busy := [f"{r.tickets:,}" for r in results if r.p50_ms > BUSY_WALL_TO_CPU * r.cpu_p50_ms]:
        notes.append(
            f"wall-clock p50 above {BUSY_WALL_TO_CPU:g}x CPU p50 at {', '.join(busy)} tickets: "
            "the machine was busy; compare cpu_p50_ms or rerun on an idle machine"
        )
    passed = all(checks.values()) if big and small else None
    return {
        "bench": "queue",
        "sizes": {
            str(r.tickets): {
                "p50_ms": r.p50_ms,
                "p95_ms": r.p95_ms,
                "queries": r.queries,
                "sql_p50_ms": r.sql_p50_ms,
                "sql_p95_ms": r.sql_p95_ms,
                "open_tickets": r.open_tickets,
                "queue_tickets": r.queue_tickets,
                "rows_shown": r.rows_shown,
                "cpu_p50_ms": r.cpu_p50_ms,
                "cpu_p95_ms": r.cpu_p95_ms,
                "load_avg": r.load_avg,
                "index_used": r.index_used,
                "sort_node": r.sort_node,
            }
            for r in results
        },
        "targets": {"p95_100k_ms_max": P95_100K_MS_MAX, "ratio_max": RATIO_MAX},
        "p95_ratio_100k_vs_1k": ratio,
        "p95_ratio_100k_vs_10k": ratio_10k,
        "cpu_p50_ratio_100k_vs_1k": cpu_ratio,
        "checks": checks,
        "notes": notes,
        "pass": passed,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="ticket counts, comma-separated (clients are a tenth)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--reuse", action="store_true", help="use kept databases as they are (implies --keep)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile 20 requests per size")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tickets", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        harness.report_to_parent(measure_size(args.tickets, args.clients, args.profile))
        return 0

    server_url = harness.server_url()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = []
    try:
        for tickets in sizes:
            result = run_size(server_url, tickets, reuse=args.reuse, profile=args.profile)
            report(result)
            results.append(result)
    finally:
        if not (args.keep or args.reuse):
            for tickets in sizes:
                harness.drop_database(server_url, database_name(tickets))
    summary = summarise(results)
    if summary["p95_ratio_100k_vs_10k"] is not None:
        print(f"p95 ratio 100k/10k (both 50 rows): {summary['p95_ratio_100k_vs_10k']:.2f}")
    if summary["cpu_p50_ratio_100k_vs_1k"] is not None:
        print(f"CPU p50 ratio 100k/1k: {summary['cpu_p50_ratio_100k_vs_1k']:.2f}")
    harness.print_summary(summary, not_judged="they need the 1,000 and 100,000-ticket sizes.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
