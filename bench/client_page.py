"""Benchmark the client page (/clients/<id>/) on PostgreSQL: a client of 5,000 tickets and three
years of ledger in the 100,000-ticket demo practice, against a client of five tickets.

The child seeds the demo practice (and bills last month, as a practice a year in has), grows one
of its contract clients to 5,000 tickets with three years of ledger, contract terms, time,
offers and history, opens a small contract client through the ticket services, then times
GET /clients/<id>/ for both as the demo manager, counts their queries, EXPLAINs each query of
the big page, and times the client list as a secondary figure. The last line printed is a JSON
summary.

    python bench/client_page.py [--sizes 100000] [--big-tickets 5000] [--keep] [--reuse] [--profile]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/) names the server; the bench
creates and drops its own databases there (consultancy_bench_client_<tickets>).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/client_page.py`, Python puts bench/ first on sys.path, where queue.py
# would shadow the standard library's `queue` (kombu imports it). Swap that entry for the
# project root before importing anything; the harness is then `bench.harness`.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from decimal import Decimal  # noqa: E402
from typing import Any  # noqa: E402

from bench import harness  # noqa: E402

DEFAULT_SIZES = (100_000,)
BIG_TICKETS = 5_000
YEARS = 3
WARMUP = 20
REQUESTS = 200
LIST_REQUESTS = 50
USERNAME = "manager"  # the demo manager: the page with every button it may show
P95_MS_MAX = 50.0  # the target, for the big client at 100,000 tickets
BIG_SIZE = 100_000
BIG_NAME = "Bench Grown Client"
SMALL_NAME = "Bench Small Client"
BUSY_WALL_TO_CPU = 1.5


@dataclass
class PageTiming:
    url: str
    tickets: int = 0  # the client's
    charges: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    cpu_p50_ms: float = 0.0
    cpu_p95_ms: float = 0.0
    queries: int = 0
    query_list: list[str] = field(default_factory=list)
    query_exec_ms: list[float] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # of the slowest query, when EXPLAINed


@dataclass
class SizeResult:
    tickets: int
    clients: int
    seed_s: float = 0.0
    grow_s: float = 0.0
    load_avg: float = 0.0
    big: dict[str, Any] = field(default_factory=dict)
    small: dict[str, Any] = field(default_factory=dict)
    pages: list[dict[str, Any]] = field(default_factory=list)  # the list, as secondary figures
    slowest_plan: list[str] = field(default_factory=list)


# --- Child: the data ------------------------------------------------------------------------
def _seed(result: SizeResult) -> None:
    """The demo practice, and last month billed (see bench/insights.py)."""
    from django.core.management import call_command

    from billing.models import RunTrigger
    from billing.periods import Period
    from billing.run import billing_run

    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    call_command("seed_demo", clients=result.clients, tickets=result.tickets, stdout=sys.stderr)
    billing_run(period=Period.last_closed(), trigger=RunTrigger.COMMAND)
    result.seed_s = round(time.monotonic() - started, 1)


def _grow(tickets: int) -> int:
    """Make the demo contract client whose term started first a client of `tickets` tickets and
    three years: two earlier terms, a monthly ledger of every kind, an entry of time for each
    ticket of the current term, answered offers and a long history. Returns its id."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from billing.periods import Period, day_start
    from clients.models import Charge, ChargeKind, ClientEvent, ClientEventKind
    from contracts.models import ContractStatus, ServiceContract
    from offers.models import ConversionOffer, OfferKind, OfferStatus
    from tickets.models import QueueTier, Ticket, TicketStatus, TimeEntry

    term = (
        ServiceContract.objects.active()
        # A client the campaign rules still reach, like the small one: the two pages then
        # ask the same questions (an opted-out client's page needs one query fewer).
        .filter(client__offers_opt_out=False)
        .select_related("client", "plan")
        .order_by("starts_on", "pk")
        .first()
    )
    assert term is not None, "the demo has no contract"
    client = term.client
    client.name = BIG_NAME
    client.save(update_fields=["name"])
    now = timezone.now()
    today = timezone.localdate(now)
    consultant = get_user_model().objects.get(username="consultant")
    # Two earlier yearly terms, ended, before the current one.
    starts = term.starts_on
    for _ in range(YEARS - 1):
        ends = starts - dt.timedelta(days=1)
        starts = ends.replace(year=ends.year - 1) + dt.timedelta(days=1)
        ServiceContract.objects.create(
            client=client,
            plan=term.plan,
            status=ContractStatus.ENDED,
            starts_on=starts,
            ends_on=ends,
            monthly_price=term.monthly_price,
            ended_at=day_start(ends + dt.timedelta(days=1)),
            end_reason="Renewed for another term",
        )
    span = dt.timedelta(days=365 * YEARS)
    missing = tickets - Ticket.objects.filter(client=client).count()
    built = []
    for n in range(missing):
        opened = now - span + span * (n + 1) / (missing + 1)
        ticket = Ticket(client=client, subject=f"Bench ticket {n}", opened_at=opened)
        if n >= missing - missing // 40:  # the newest 2.5%: open, contract tickets in line
            ticket.contract, ticket.queue_tier = term, QueueTier.CONTRACT
            ticket.response_due_at = ticket.queue_due_at = opened + dt.timedelta(hours=4)
            ticket.resolution_due_at = opened + dt.timedelta(hours=24)
            ticket.response_risk_at = opened + dt.timedelta(hours=3)
            ticket.resolution_risk_at = opened + dt.timedelta(hours=18)
            if n == missing - 1:
                ticket.status, ticket.sla_paused_at = TicketStatus.WAITING_ON_CLIENT, now
        else:
            ticket.status = TicketStatus.CLOSED
            ticket.first_response_at = opened + dt.timedelta(hours=1)
            ticket.resolved_at = ticket.closed_at = opened + dt.timedelta(hours=6)
            ticket.assignee = consultant
        built.append(ticket)
    built = Ticket.objects.bulk_create(built, batch_size=1000)
    TimeEntry.objects.bulk_create(
        (
            TimeEntry(
                ticket=t,
                consultant=consultant,
                contract=term,
                work_date=timezone.localdate(t.opened_at),
                minutes=30,
                covered_minutes=30,
            )
            for t in built
            if term.starts_on <= timezone.localdate(t.opened_at) <= today
        ),
        batch_size=1000,
    )
    month, charges = Period.of(today).previous, []
    for _ in range(12 * YEARS):
        for kind, amount in (
            (ChargeKind.LABOUR, "250.00"),
            (ChargeKind.OVERAGE, "105.00"),
            (ChargeKind.OTHER, "89.00"),
        ):
            charges.append(
                Charge(
                    client=client,
                    kind=kind,
                    amount=Decimal(amount),
                    description=f"Bench {kind}",
                    hours=Decimal("1.00") if kind != ChargeKind.OTHER else None,
                    occurred_at=month.starts_at() + dt.timedelta(days=9),
                )
            )
        month = month.previous
    Charge.objects.bulk_create(charges, batch_size=1000)
    contact = client.contacts.filter(is_primary=True).first()
    ConversionOffer.objects.bulk_create(
        ConversionOffer(
            client=client,
            contact=contact,
            email=contact.email if contact else "bench@example.com",
            plan=term.plan,
            status=status,
            kind=OfferKind.SAVINGS,
            list_price=term.plan.monthly_price,
            discount_percent=Decimal("5.00"),
            monthly_price=term.monthly_price,
            trailing_labour=Decimal("3000.00"),
            trailing_priority=Decimal("0.00"),
            trailing_spend=Decimal("3000.00"),
            trailing_hours=Decimal("24.00"),
            trailing_tickets=40,
            priority_purchases=0,
            contract_cost=Decimal("2800.00"),
            nonce=f"bench{n}",
            created_at=now - dt.timedelta(days=400 + 120 * n),
            expires_at=now - dt.timedelta(days=379 + 120 * n),
            responded_at=now - dt.timedelta(days=390 + 120 * n),
        )
        for n, status in enumerate(
            (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN)
        )
    )
    ClientEvent.objects.bulk_create(
        ClientEvent(
            client=client,
            kind=ClientEventKind.CONTRACT_RENEWED,
            summary=f"Bench event {n}",
            at=now - dt.timedelta(days=n + 1),
        )
        for n in range(200)
    )
    return client.pk


def _small() -> int:
    """A new contract client with five tickets, opened and moved through the ticket services:
    two in line, one waiting on it, two closed; an hour logged; one charge."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from clients.models import Charge, ChargeKind, Client, Contact
    from contracts.models import ContractPlan
    from contracts.services import contract_start
    from tickets.models import TicketStatus
    from tickets.services import ticket_change_status, ticket_open, time_log

    consultant = get_user_model().objects.get(username="consultant")
    client = Client.objects.create(name=SMALL_NAME)
    Contact.objects.create(
        client=client, name="Bench Contact", email="bench@small.example", is_primary=True
    )
    today = timezone.localdate()
    contract_start(
        client=client,
        plan=ContractPlan.objects.order_by("pk").first(),
        starts_on=today - dt.timedelta(days=200),
    )
    opened = [ticket_open(client=client, subject=f"Small ticket {n}") for n in range(5)]
    ticket_change_status(ticket=opened[2], status=TicketStatus.WAITING_ON_CLIENT, actor=consultant)
    for ticket in opened[3:]:
        ticket_change_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=consultant)
        ticket_change_status(ticket=ticket, status=TicketStatus.CLOSED, actor=consultant)
    time_log(ticket=opened[0], consultant=consultant, minutes=60, work_date=today)
    Charge.objects.create(
        client=client, kind=ChargeKind.OTHER, amount=Decimal("89.00"), description="Bench toner"
    )
    return client.pk


# --- Child: the measurements ------------------------------------------------------------------
def _getter(browser: Any, url: str) -> Callable[[], None]:
    def get_page() -> None:
        response = browser.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")

    return get_page


def _time_page(browser: Any, url: str, repeat: int, *, explain: bool = False) -> PageTiming:
    """Time `repeat` GETs of `url` after a warm-up; count the queries of one more (and EXPLAIN
    them, with `explain`: their times in the result, the slowest one's plan in `page.plan`)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get_page = _getter(browser, url)
    timing = harness.timed(get_page, warmup=WARMUP, repeat=repeat)
    page = PageTiming(url)
    page.p50_ms, page.p95_ms = harness.p50_p95(timing.wall_ms, 2)
    page.cpu_p50_ms, page.cpu_p95_ms = harness.p50_p95(timing.cpu_ms, 2)
    with CaptureQueriesContext(connection) as captured:
        get_page()
    sqls = [q["sql"] for q in captured.captured_queries]
    page.queries = len(sqls)
    page.query_list = [sql[:150] for sql in sqls]
    if explain:
        page.query_exec_ms, page.plan = harness.explain_each(sqls)
    return page


def measure_size(tickets: int, clients: int, profile: bool, big_tickets: int) -> SizeResult:
    # The parent set the environment (harness.django_env): this database, DEBUG off.
    harness.setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from clients.models import Charge
    from clients.models import Client as CrmClient
    from tickets.models import Ticket

    result = SizeResult(tickets=tickets, clients=clients)
    _seed(result)
    started = time.monotonic()
    made = dict(CrmClient.objects.filter(name__in=[BIG_NAME, SMALL_NAME]).values_list("name", "pk"))
    big = made.get(BIG_NAME) or _grow(big_tickets)
    small = made.get(SMALL_NAME) or _small()
    result.grow_s = round(time.monotonic() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would leave a live database

    browser = Client()
    browser.force_login(get_user_model().objects.get(username=USERNAME))
    for name, pk in (("big", big), ("small", small)):
        page = _time_page(browser, f"/clients/{pk}/", REQUESTS, explain=name == "big")
        page.tickets = Ticket.objects.filter(client_id=pk).count()
        page.charges = Charge.objects.filter(client_id=pk).count()
        if name == "big":
            result.slowest_plan, page.plan = page.plan, []
        setattr(result, name, page.__dict__)
    result.load_avg = harness.load_average()
    for url in ("/clients/", "/clients/?q=dental", "/clients/?kind=contract&open_tickets=on"):
        page = _time_page(browser, url, LIST_REQUESTS)
        result.pages.append(
            {k: v for k, v in page.__dict__.items() if k not in ("query_exec_ms", "plan")}
        )
    if profile:
        harness.profile_requests(_getter(browser, f"/clients/{big}/"), own_time=True)
    return result


# --- Parent: databases and the summary ---------------------------------------------------------
def database_name(tickets: int) -> str:
    return f"consultancy_bench_client_{tickets}"


def report(result: SizeResult) -> None:
    print(
        f"== {result.tickets:,} tickets, {result.clients:,} clients (seeded in {result.seed_s}s, "
        f"the two bench clients made in {result.grow_s}s; load average {result.load_avg})"
    )
    for label in ("big", "small"):
        page = result.__dict__[label]
        print(
            f"   {label:5} GET {page['url']} ({page['tickets']:,} tickets, {page['charges']:,} "
            f"charges): p50 {page['p50_ms']:.2f} ms, p95 {page['p95_ms']:.2f} ms, CPU p50 "
            f"{page['cpu_p50_ms']:.2f} ms; {page['queries']} queries"
        )
    big = result.big
    print("   the big page's queries (EXPLAIN ANALYZE execution ms):")
    for sql, ms in zip(big["query_list"], big["query_exec_ms"], strict=True):
        print(f"     {ms:8.2f}  {sql}")
    print("   plan of the slowest:")
    for line in result.slowest_plan:
        print(f"     {line}")
    for page in result.pages:
        print(
            f"   list  GET {page['url']}: p50 {page['p50_ms']:.2f} ms, p95 {page['p95_ms']:.2f} "
            f"ms; {page['queries']} queries ({LIST_REQUESTS} requests, not judged)"
        )


SUMMARY_FIELDS = ("tickets", "charges", "p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms", "queries")


def summarise(results: list[SizeResult], big_tickets: int) -> dict[str, Any]:
    checks: dict[str, bool] = {}
    notes: list[str] = []
    for r in results:
        if r.tickets == BIG_SIZE:
            checks[
                f"p95 of the {big_tickets:,}-ticket client at 100k {r.big['p95_ms']:.2f} ms <= {P95_MS_MAX:g} ms"
            ] = r.big["p95_ms"] <= P95_MS_MAX
        checks[
            f"same queries for the big and the small client at {r.tickets:,} ({r.big['queries']} and {r.small['queries']})"
        ] = r.big["queries"] == r.small["queries"]
        if r.big["p50_ms"] > BUSY_WALL_TO_CPU * r.big["cpu_p50_ms"]:
            notes.append(
                f"wall-clock p50 above {BUSY_WALL_TO_CPU:g}x this process's CPU p50 at "
                f"{r.tickets:,} tickets: time in PostgreSQL, or a busy machine"
            )
    judged = any(r.tickets == BIG_SIZE for r in results)
    return {
        "bench": "client_page",
        "sizes": {
            str(r.tickets): {
                "big": {k: r.big[k] for k in SUMMARY_FIELDS},
                "small": {k: r.small[k] for k in SUMMARY_FIELDS},
                "sql_ms": round(sum(r.big["query_exec_ms"]), 2),
                "load_avg": r.load_avg,
                "list": {
                    p["url"]: {
                        "p50_ms": p["p50_ms"],
                        "p95_ms": p["p95_ms"],
                        "queries": p["queries"],
                    }
                    for p in r.pages
                },
            }
            for r in results
        },
        "targets": {"p95_ms_max": P95_MS_MAX, "big_tickets": big_tickets, "same_query_count": True},
        "checks": checks,
        "notes": notes,
        "pass": all(checks.values()) if judged else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="ticket counts of the practice, comma-separated (clients are a tenth)",
    )
    parser.add_argument("--big-tickets", type=int, default=BIG_TICKETS)
    parser.add_argument("--keep", action="store_true", help="keep the bench databases")
    parser.add_argument(
        "--reuse", action="store_true", help="use kept databases as they are (implies --keep)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile 20 requests of the big page"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tickets", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        result = measure_size(args.tickets, args.clients, args.profile, args.big_tickets)
        harness.report_to_parent(result)
        return 0

    server_url = harness.server_url()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = []
    try:
        for tickets in sizes:
            found = harness.run_demo_size(
                __file__,
                server_url,
                database_name(tickets),
                tickets,
                reuse=args.reuse,
                profile=args.profile,
                extra=["--big-tickets", str(args.big_tickets)],
            )
            result = SizeResult(**found)
            report(result)
            results.append(result)
    finally:
        if not (args.keep or args.reuse):
            for tickets in sizes:
                harness.drop_database(server_url, database_name(tickets))
    harness.print_summary(
        summarise(results, args.big_tickets), not_judged="it needs the 100,000-ticket size."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
