"""Benchmark the conversion campaign: 10,000 offers from `campaign_run()` to the mail server.

One PostgreSQL database holds 50,000 clients, 10,000 of them eligible (the others spend too
little, hold a contract, opted out, have no primary contact, were dropped, or were offered
something lately). Of the eligible, 70% worked every month and a contract would have saved them
money (savings offers); the rest bought paid priority in a few busy months (value offers). A child
process seeds it with bulk_create and times eligibility with the replay: `campaign_preview()`,
the eligibility query and every candidate's twelve months re-billed under every offered plan.
Then, against a local SMTP sink in its own process and a real Celery worker on Redis, with the
README's production concurrency (4 processes: sending waits on the mail server and on a disk
flush per message, so it is I/O bound, and more processes than cores keep the cores busy), another child calls `campaign_run()`; the bench times campaign start until the sink holds
an email for every eligible client, and counts duplicates and losses. A last child renders the
same 10,000 messages and sends them over one plain smtplib connection to the same sink (the
reference rate). That is repeated (--repeat); after the last run the worker's batch function is
profiled in process, through the app's public functions. The last line printed is a JSON
summary.

    python bench/campaign.py [--eligible 10000] [--population 50000] [--tickets 100000]
                             [--repeat 3] [--eligibility-runs 20] [--profile-batches 8]
                             [--keep] [--reuse] [--variant app|synchronous-commit-off]

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/) names the PostgreSQL server (the
bench creates and drops its own database, consultancy_bench_campaign_<population>);
BENCH_REDIS_URL (default redis://127.0.0.1:6379/13) names a Redis database the bench flushes.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/campaign.py`, Python puts bench/ first on sys.path, and bench/queue.py (the
# queue page benchmark) would then shadow the standard library's `queue` module for this script
# too (asgiref, kombu and celery import it). Swap that entry for the project root first; the
# shared harness is then `bench.harness`.
ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0] or ".").resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import fcntl  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import smtplib  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Iterable, Iterator, Sequence  # noqa: E402
from contextlib import AbstractContextManager, nullcontext  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from decimal import Decimal  # noqa: E402
from functools import partial  # noqa: E402
from typing import Any  # noqa: E402

from bench import harness  # noqa: E402

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
DATABASE_PREFIX = "consultancy_bench_campaign_"

DEFAULT_ELIGIBLE = 10_000
DEFAULT_POPULATION = 50_000
DEFAULT_TICKETS = 100_000
ELIGIBILITY_WARMUP = 2
ELIGIBILITY_RUNS = 20  # the default of --eligibility-runs
REFERENCE_PASSES = 2
# The README's deployment: `celery --app consultancy worker --concurrency 4`. (Runs before
# 2026-12-06 used 2, the development Procfile's figure; docs/performance.md has both.)
WORKER_CONCURRENCY = 4
WORKER_READY_TIMEOUT_S = 60
STALL_S = 60  # give up waiting when the sink has seen nothing new for this long
GRACE_S = 3  # keep listening this long after the last expected email, for late duplicates
# Targets from the issue.
RATIO_MIN = 0.50
ELIGIBILITY_MS_MAX = 1000.0
# A campaign run counts as undisturbed ("quiet") when processes outside the bench used at most
# this share of the machine's CPU and other databases ran at most this many queries on average.
# The targets compare this app with a reference measured minutes apart; on a 2-core machine that
# others share, a run during which someone else holds a core measures them, not the app.
QUIET_OTHER_SHARE = 0.10
QUIET_OTHER_QUERIES = 0.2
# The eligible clients: this share spends enough every month that a contract saves them money
# (a savings offer); the rest spend in a few busy months and bought paid priority, so a contract
# costs them more but buys faster service (a value offer). Every one of them gets an offer.
SAVINGS_SHARE = 0.7
ELIGIBLE_KINDS = ("savings", "value")
# Why the ineligible clients are ineligible, as shares of them (the rest of the population).
INELIGIBLE_MIX = {
    "low_spend": 0.70,  # under both thresholds in the last year
    "contract": 0.08,  # holds an active service contract
    "opted_out": 0.05,
    "no_primary": 0.05,  # contacts, but none primary: nobody to write to
    "dropped": 0.04,
    "recent_offer": 0.05,  # declined an offer inside the cooldown
    "open_offer": 0.03,  # has an offer out already
}


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def django_env(database_url: str, redis_url: str, smtp_port: int) -> dict[str, str]:
    """The environment of every Django process here (the worker's too): DEBUG off, real
    servers, the producer not eager."""
    return harness.django_env(
        database_url,
        REDIS_URL=redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CELERY_TASK_ALWAYS_EAGER="false",
        DJANGO_LOG_LEVEL="INFO",  # the worker's log says when it is ready
    )


# --- Child 1: seed, then time the eligibility query ---------------------------------------------
@dataclass
class SeedResult:
    population: int
    eligible_target: int
    runs: int
    seeded: bool = False
    seed_s: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    eligible: int = 0
    kinds: dict[str, int] = field(default_factory=dict)  # the preview's offers by fit
    eligible_emails: list[str] = field(default_factory=list)  # of the clients offered
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    # CPU per run, which other processes on a busy machine disturb far less than the wall clock:
    # PostgreSQL's (the backend serving this process) and this process's (building the rows).
    postgres_cpu_p50_ms: float = 0.0
    python_cpu_p50_ms: float = 0.0
    sql_p50_ms: float = 0.0
    sql_p95_ms: float = 0.0
    # PostgreSQL's JIT compiler on the app's connections, and the same list(eligible_clients())
    # with it switched the other way (a diagnostic: what the setting is worth).
    jit: str = ""
    other_jit_p50_ms: float = 0.0
    other_jit_p95_ms: float = 0.0
    plan: list[str] = field(default_factory=list)


def _plans_and_rules(eligible: int) -> list[Any]:
    from django.conf import settings

    from consultancy.demo import PLANS
    from contracts.models import BusinessCalendar, ContractPlan, Coverage, ServiceLevel
    from contracts.services import plan_terms_set
    from contracts.terms import standard_terms_of
    from offers.models import CampaignSettings

    # A migration creates the default calendar already.
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Office hours", defaults={"timezone": settings.TIME_ZONE}
    )
    plans = []
    for name, price, hours, coverage, overage, targets in PLANS:
        plan = ContractPlan.objects.create(
            name=name,
            monthly_price=Decimal(price),
            included_hours=Decimal(hours),
            coverage=coverage,
            overage_hourly_rate=Decimal(overage),
            calendar=calendar,
            description=f"{hours} hours a month included, {Coverage(coverage).label.lower()}.",
        )
        ServiceLevel.objects.bulk_create(
            ServiceLevel(plan=plan, priority=p, response_minutes=r, resolution_minutes=s)
            for p, (r, s) in targets.items()
        )
        summary, text = standard_terms_of(plan)  # a campaign offers only plans with terms
        plan_terms_set(plan=plan, summary=summary, text=text)
        plans.append(plan)
    rules = CampaignSettings.load()
    if rules.max_offers_per_run < eligible:
        rules.max_offers_per_run = eligible
        rules.save()
    return plans


def _kinds(eligible: int, population: int, rng: random.Random) -> list[str]:
    rest = population - eligible
    savings = round(eligible * SAVINGS_SHARE)
    kinds = ["savings"] * savings + ["value"] * (eligible - savings)
    shares = list(INELIGIBLE_MIX.items())
    for kind, share in shares[1:]:
        kinds += [kind] * int(rest * share)
    kinds += [shares[0][0]] * (population - len(kinds))  # low_spend takes the rounding
    rng.shuffle(kinds)  # interleave, so that ids and eligibility do not correlate
    return kinds


def populate(eligible: int, population: int, tickets: int, seed: int = 2026) -> dict[str, int]:
    """Create the practice with bulk_create: plans, clients, contacts, a year of charges, tickets,
    contracts and past offers, in proportions that leave exactly `eligible` clients eligible."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from billing.periods import Period
    from clients.models import Charge, ChargeKind, Client, ClientStatus, Contact
    from consultancy.demo import NAME_FIRST, NAME_SECOND, PEOPLE_FIRST, PEOPLE_LAST
    from contracts.models import ContractStatus, ServiceContract
    from offers.models import ConversionOffer, OfferStatus
    from offers.replay import replay_months
    from tickets.models import Ticket, TicketStatus

    rng = random.Random(seed)
    now, today = timezone.now(), timezone.localdate()
    rate = settings.HOURLY_RATE
    batch = 5000

    def ago(low: int, high: int) -> dt.datetime:
        return now - dt.timedelta(days=rng.randint(low, high), minutes=rng.randint(0, 1439))

    with transaction.atomic():
        plans = _plans_and_rules(eligible)
        kinds = _kinds(eligible, population, rng)
        clients = Client.objects.bulk_create(
            [
                Client(
                    name=f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {n:05d}",
                    customer_since=today - dt.timedelta(days=rng.randint(60, 9 * 365)),
                    offers_opt_out=kind == "opted_out",
                    status=ClientStatus.DROPPED if kind == "dropped" else ClientStatus.ACTIVE,
                    dropped_at=ago(5, 200) if kind == "dropped" else None,
                )
                for n, kind in enumerate(kinds)
            ],
            batch_size=batch,
        )

        contacts, primary = [], {}
        for n, (client, kind) in enumerate(zip(clients, kinds, strict=True)):
            for k in range(rng.choice((1, 1, 1, 2))):
                first, last = rng.choice(PEOPLE_FIRST), rng.choice(PEOPLE_LAST)
                contact = Contact(
                    client=client,
                    name=f"{first} {last}",
                    email=f"{first}.{last}{k or ''}@client{n:05d}.example".lower(),
                    is_primary=k == 0 and kind != "no_primary",
                )
                contacts.append(contact)
                if contact.is_primary:
                    primary[client.pk] = contact
        Contact.objects.bulk_create(contacts, batch_size=batch)

        charges = []

        def labour(client: Client, hours: Decimal, when: dt.datetime) -> None:
            charges.append(
                Charge(
                    client=client,
                    kind=ChargeKind.LABOUR,
                    amount=(hours * rate).quantize(Decimal("0.01")),
                    hours=hours,
                    description="On-site and remote labour",
                    occurred_at=when,
                )
            )

        def in_month(month: Period) -> dt.datetime:
            return month.starts_at() + dt.timedelta(
                days=rng.randint(4, 24), hours=rng.randint(8, 17)
            )

        def hours(low: float, high: float) -> Decimal:
            return Decimal(str(round(rng.uniform(low, high), 2)))

        months = replay_months(now)  # the twelve months the replay re-bills
        for client, kind in zip(clients, kinds, strict=True):
            if kind == "low_spend":
                # Under $500 in the window: at most 3.5 hours at $125.
                for _ in range(rng.randint(0, 3)):
                    labour(client, Decimal(rng.choice(("0.5", "0.75", "1.0"))), ago(1, 350))
            elif kind == "savings":
                # Work every month, 4 to 18 hours on average: each plan is the cheapest for some.
                base = rng.uniform(4, 18)
                for month in months:
                    labour(client, hours(base * 0.6, base * 1.4), in_month(month))
            elif kind == "value":
                # A few busy months (16 to 32 hours a year) and paid priority: the replayed
                # contract costs more than that spend, but less than twice it.
                for month in rng.sample(months, rng.randint(3, 4)):
                    labour(client, hours(5.5, 8), in_month(month))
                for _ in range(rng.randint(1, 3)):
                    charges.append(
                        Charge(
                            client=client,
                            kind=ChargeKind.PAID_PRIORITY,
                            amount=settings.PAID_PRIORITY_SURCHARGE,
                            description="Paid priority",
                            occurred_at=in_month(rng.choice(months)),
                        )
                    )
            else:
                # Ineligible for another reason, with a spend that would qualify otherwise.
                for _ in range(rng.randint(2, 6)):
                    labour(client, hours(2, 30), ago(1, 350))
            if rng.random() < 0.3:  # older work, outside the trailing year
                labour(client, Decimal(rng.randint(4, 40)), ago(380, 700))
        Charge.objects.bulk_create(charges, batch_size=batch)

        contracts, offers = [], []
        for client, kind in zip(clients, kinds, strict=True):
            plan = rng.choice(plans)
            if kind == "contract":
                starts = today - dt.timedelta(days=rng.randint(10, 300))
                contracts.append(
                    ServiceContract(
                        client=client,
                        plan=plan,
                        status=ContractStatus.ACTIVE,
                        starts_on=starts,
                        ends_on=starts + dt.timedelta(days=365),
                        monthly_price=plan.monthly_price,
                    )
                )
            elif kind in {"recent_offer", "open_offer"}:
                made = ago(10, 80) if kind == "recent_offer" else ago(1, 10)
                contact = primary[client.pk]
                offers.append(
                    ConversionOffer(
                        client=client,
                        contact=contact,
                        email=contact.email,
                        plan=plan,
                        status=OfferStatus.DECLINED if kind == "recent_offer" else OfferStatus.SENT,
                        list_price=plan.monthly_price,
                        discount_percent=Decimal("7.00"),
                        monthly_price=plan.monthly_price,
                        trailing_labour=Decimal("1000.00"),
                        trailing_priority=Decimal("0.00"),
                        trailing_spend=Decimal("1000.00"),
                        trailing_hours=Decimal("8.00"),
                        trailing_tickets=1,
                        priority_purchases=0,
                        contract_cost=plan.monthly_price * 12,
                        nonce=f"seed{client.pk}",
                        created_at=made,
                        sent_at=made,
                        responded_at=made if kind == "recent_offer" else None,
                        expires_at=made + dt.timedelta(days=21),
                    )
                )
        ServiceContract.objects.bulk_create(contracts, batch_size=batch)
        ConversionOffer.objects.bulk_create(offers, batch_size=batch)

        # Tickets: at most 3 per client in the trailing year (4 would qualify the client), the
        # rest older. They make the query's ticket count read real index ranges.
        in_window: Counter[int] = Counter()
        ticket_rows = []
        for _ in range(min(tickets * 6 // 10, 3 * population)):
            client = clients[rng.randrange(population)]
            while in_window[client.pk] >= 3:
                client = clients[rng.randrange(population)]
            in_window[client.pk] += 1
            ticket_rows.append((client, ago(1, 350)))
        ticket_rows += [
            (clients[rng.randrange(population)], ago(380, 700))
            for _ in range(tickets - len(ticket_rows))
        ]
        Ticket.objects.bulk_create(
            [
                Ticket(
                    client=client,
                    subject="Printer offline on the front desk",
                    status=TicketStatus.CLOSED,
                    opened_at=opened,
                    resolved_at=opened + dt.timedelta(hours=3),
                    closed_at=opened + dt.timedelta(days=2),
                )
                for client, opened in ticket_rows
            ],
            batch_size=batch,
        )
    return {
        "clients": len(clients),
        "contacts": len(contacts),
        "charges": len(charges),
        "contracts": len(contracts),
        "past_offers": len(offers),
        "tickets": tickets,
        **{f"kind_{k}": v for k, v in sorted(Counter(kinds).items())},
    }


def run_seed(args: argparse.Namespace) -> SeedResult:
    harness.setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from clients.models import Client
    from offers.campaign import eligible_clients
    from offers.drafts import campaign_preview
    from offers.models import CampaignSettings
    from offers.replay import Fit

    result = SeedResult(
        population=args.population, eligible_target=args.eligible, runs=args.eligibility_runs
    )
    call_command("migrate", verbosity=0, interactive=False)
    if not Client.objects.exists():
        started = time.monotonic()
        result.counts = populate(args.eligible, args.population, args.tickets)
        result.seed_s = round(time.monotonic() - started, 1)
        result.seeded = True
    # Fresh statistics and visibility map, as autovacuum would leave a live database; on a kept
    # database also forget what earlier bench runs offered.
    _forget_campaigns()

    rules = CampaignSettings.load()

    def preview_now() -> Any:
        # What campaign_run() decides before it writes: the eligibility query, then the
        # twelve-month replay of every candidate under every offered plan.
        return campaign_preview(now=timezone.now())

    preview = preview_now()
    result.eligible = preview.eligible
    result.kinds = {
        Fit.SAVINGS: preview.count(Fit.SAVINGS),
        Fit.VALUE: preview.count(Fit.VALUE),
        Fit.NONE: len(preview.not_offered),
    }
    result.eligible_emails = [draft.email.lower() for draft in preview.offers]
    if len(preview.offers) != args.eligible:
        raise RuntimeError(
            f"{len(preview.offers)} clients would be offered a contract ({result.kinds}; "
            f"reasons {preview.reasons()}), expected {args.eligible}"
        )

    def timed_runs() -> harness.Timings:
        return harness.timed(
            preview_now,
            warmup=ELIGIBILITY_WARMUP,
            repeat=args.eligibility_runs,
            backend_cpu=True,
        )

    runs = timed_runs()
    result.postgres_cpu_p50_ms = round(statistics.median(runs.backend_cpu_ms), 1)
    result.python_cpu_p50_ms = round(statistics.median(runs.cpu_ms), 1)
    result.p50_ms, result.p95_ms = harness.p50_p95(runs.wall_ms, 1)
    result.max_ms = round(max(runs.wall_ms), 1)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        (result.jit,) = cursor.fetchone()
        # The query's cost estimate passes jit_above_cost, and compiling it can take longer
        # than running it.
        cursor.execute(f"SET jit TO {'on' if result.jit == 'off' else 'off'}")
    result.other_jit_p50_ms, result.other_jit_p95_ms = harness.p50_p95(timed_runs().wall_ms, 1)
    with connection.cursor() as cursor:
        cursor.execute(f"SET jit TO {result.jit}")

    sql, params = eligible_clients(now=timezone.now(), rules=rules).query.sql_with_params()
    with connection.cursor() as cursor:

        def run_sql() -> None:
            cursor.execute(sql, params)
            cursor.fetchall()

        raw_sql = harness.timed(run_sql, warmup=0, repeat=args.eligibility_runs)
        result.sql_p50_ms, result.sql_p95_ms = harness.p50_p95(raw_sql.wall_ms, 1)
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        result.plan = [line for (line,) in cursor.fetchall()]
    return result


# --- Child 2: the campaign run itself -------------------------------------------------------------
@dataclass
class CampaignResult:
    run_id: int = 0
    offers: int = 0
    started_at: float = 0.0  # time.monotonic(), comparable with the sink's clock
    # campaign_run() commits its offers in chunks and queues each chunk's send tasks after it.
    committed_at: float = 0.0  # after the first chunk's commit, its send tasks began to be queued
    last_committed_at: float = 0.0  # after the last chunk's commit
    queueing_s: float = 0.0  # queueing the send tasks, all chunks together
    returned_at: float = 0.0
    tasks: int = 0


def run_campaign(args: argparse.Namespace) -> CampaignResult:
    harness.setup_django()
    from django.conf import settings

    from consultancy.celery import app as celery_app
    from offers import tasks
    from offers.models import CampaignTrigger
    from offers.services import campaign_run

    # The producer publishes to the worker's Redis; nothing runs eagerly in this process.
    celery_app.conf.broker_url = settings.CELERY_BROKER_URL
    celery_app.conf.task_always_eager = False
    result = CampaignResult()
    queue = tasks.queue_offer_emails

    # campaign_run() announces its offers once committed (offers.signals.offers_made), and the
    # receiver in offers.tasks looks queue_offer_emails up on its module then, so this wrapper
    # (bench only) sees when the commit happened and how long queueing took.
    def timed_queue(offer_ids: Iterable[int]) -> None:
        ids = list(offer_ids)
        committed = time.monotonic()
        result.committed_at = result.committed_at or committed
        result.last_committed_at = committed
        queue(ids)
        result.queueing_s += time.monotonic() - committed
        result.tasks += -(-len(ids) // tasks.SEND_BATCH_SIZE)

    tasks.queue_offer_emails = timed_queue
    result.started_at = time.monotonic()
    run = campaign_run(trigger=CampaignTrigger.MANUAL)
    result.returned_at = time.monotonic()
    result.run_id, result.offers = run.pk, run.offers_created
    return result


# --- Child 3: verify, the reference rate, and where a batch's time goes -------------------------
@dataclass
class AfterResult:
    statuses: dict[str, int] = field(default_factory=dict)
    send_attempts: dict[str, int] = field(default_factory=dict)
    messages: int = 0
    message_bytes_avg: int = 0
    fetch_s: float = 0.0  # the 100 batch reads, as the worker does them
    build_s: float = 0.0  # OfferMail.build: variants rendered once per batch, values filled in
    serialise_s: float = 0.0  # EmailMessage.message().as_bytes(): MIME encoding
    reference_s: float = 0.0
    reference_emails_per_s: float = 0.0
    reference_passes_emails_per_s: list[float] = field(default_factory=list)
    # CPU per email of the reference: this process sending plus the sink receiving.
    reference_cpu_ms_per_email: float = 0.0
    reference_delivered: int = 0
    django_s: float = 0.0
    django_emails_per_s: float = 0.0
    django_delivered: int = 0
    profile: dict[str, Any] = field(default_factory=dict)


def fetch_batch(offer_ids: Sequence[int]) -> list[Any]:
    """The offers of one batch with what their email shows, read as the worker's batch reads
    them (offers.delivery.offers_send_batch: the plan's calendar too, for the cover hours)."""
    from offers.models import ConversionOffer

    return list(
        ConversionOffer.objects.filter(pk__in=offer_ids)
        .select_related("client", "plan__calendar", "contact")
        .order_by("pk")
    )


def _build_messages(offer_ids: list[int], result: AfterResult) -> list[Any]:
    from offers.emails import OfferMail
    from offers.tasks import SEND_BATCH_SIZE

    built = []
    for ids in chunks(offer_ids, SEND_BATCH_SIZE):
        started = time.perf_counter()
        offers = fetch_batch(ids)
        fetched = time.perf_counter()
        mail = OfferMail()  # one per batch, as the worker does
        built += [mail.build(offer) for offer in offers]
        result.fetch_s += fetched - started
        result.build_s += time.perf_counter() - fetched
    return built


def _reference(
    built: list[Any], result: AfterResult, smtp_port: int, control_port: int, *, django_floor: bool
) -> None:
    from django.core.mail import get_connection
    from django.core.mail.message import sanitize_address

    from offers.tasks import SEND_BATCH_SIZE

    started = time.perf_counter()
    raw = []
    for message in built:
        # Exactly what Django's SMTP backend hands to smtplib (EmailBackend._send).
        encoding = message.encoding or "utf-8"
        raw.append(
            (
                sanitize_address(message.from_email, encoding),
                [sanitize_address(a, encoding) for a in message.recipients()],
                message.message().as_bytes(linesep="\r\n"),
            )
        )
    result.serialise_s = time.perf_counter() - started
    result.messages = len(raw)
    result.message_bytes_avg = sum(len(r[2]) for r in raw) // max(len(raw), 1)

    # Twice, back to back, and the mean: one pass alone swings by a quarter on a shared machine.
    seconds, cpu = [], []
    for _ in range(REFERENCE_PASSES):
        sink_pid = harness.sink_call(control_port, "take")["pid"]
        sink_cpu = harness.process_cpu_s([sink_pid])
        started, started_cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
            for sender, recipients, content in raw:
                smtp.sendmail(sender, recipients, content)
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu + harness.process_cpu_s([sink_pid]) - sink_cpu)
        result.reference_delivered = min(
            harness.sink_call(control_port, "take")["distinct"],
            result.reference_delivered or len(raw),
        )
    result.reference_s = statistics.fmean(seconds)
    result.reference_passes_emails_per_s = [round(len(raw) / s, 1) for s in seconds]
    result.reference_emails_per_s = round(len(raw) / result.reference_s, 1)
    result.reference_cpu_ms_per_email = round(statistics.fmean(cpu) * 1000 / len(raw), 3)
    if not django_floor:
        return

    # For comparison: the same built messages through Django's SMTP backend in batches of 100, a
    # connection each, as the worker sends them, with Django's own MIME encoding inside this
    # timing (the worker encodes with clients.mime instead).
    started = time.perf_counter()
    for start in range(0, len(built), SEND_BATCH_SIZE):
        get_connection().send_messages(built[start : start + SEND_BATCH_SIZE])
    result.django_s = time.perf_counter() - started
    result.django_emails_per_s = round(len(built) / result.django_s, 1)
    result.django_delivered = harness.sink_call(control_port, "take")["distinct"]


def _untimed(piece: str) -> AbstractContextManager[None]:
    return nullcontext()


def send_without_status_writes(
    offer_ids: Sequence[int], watch: harness.Stopwatch | None = None
) -> int:
    """A batch sent through the app's public pieces with nothing written to the database: the
    worker's read, OfferMail.build and send_committing over one connection (each next message
    built while the server takes the last, as the worker does), but no claim and a record that
    records nothing (bench only). Against offers_send_batch, the difference is what
    the claim and the per-message "sent" records cost; the offers stay pending.

    With `watch`, every step is timed, and a few parts of build and send are measured besides,
    outside the steps ("~ of ..."): that makes the whole batch slower, so its total is no rate.
    """
    from django.core.mail import get_connection

    from clients import mime
    from clients.sending import send_committing
    from offers.emails import OfferMail, offer_values

    step = watch or _untimed
    with step("fetch (select_related read of the batch)"):
        offers = fetch_batch(offer_ids)
    mail = OfferMail()  # one per batch, as the worker does
    connection = get_connection()
    with step("SMTP connect"):
        connection.open()
    if watch:
        smtp = connection.connection
        replies = smtp.getreply

        def timed_getreply() -> tuple[int, bytes]:
            with watch("~ of send: waiting for the server's replies"):
                return replies()

        smtp.getreply = timed_getreply
    upcoming: list[Any] = []

    def build_ahead(following: Any) -> None:
        # As the worker does: the next message is built while the server takes the last one.
        if following is not None:
            upcoming.append(mail.build(following))

    try:
        for offer, following in zip(offers, [*offers[1:], None], strict=True):
            with step("build (OfferMail.build)"):
                message = upcoming.pop() if upcoming else mail.build(offer)
            if watch:
                with watch("~ of build: offer_values (2 signed tokens, 2 reverse())"):
                    offer_values(offer)
                with watch("~ of send: MIME encoding (clients.mime.encode)"):
                    mime.encode(message)
            with step("send (send_committing: MIME, SMTP; a record that writes nothing)"):
                # With the stopwatch, each build is timed on its own instead.
                meanwhile = None if watch else partial(build_ahead, following)
                send_committing(connection, message, lambda sent: None, meanwhile=meanwhile)
    finally:
        with step("SMTP close"):
            connection.close()
    if watch:
        # The same OfferMail again: its template variants are rendered by now, so build minus
        # rebuild is what rendering them once per batch costs.
        with watch("rebuild (OfferMail.build, variants already rendered)"):
            for offer in offers:
                mail.build(offer)
    return len(offers)


def without_flush_wait(send_batch: Callable[[list[int]], int]) -> Callable[[list[int]], int]:
    """`send_batch` on a session with synchronous_commit off (bench only): each UPDATE still
    commits on the server before the next message goes, but does not wait for its WAL flush."""

    def send(offer_ids: list[int]) -> int:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
        try:
            return send_batch(offer_ids)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")

    return send


def _profile(offer_ids: list[int], batches: int, control_port: int) -> dict[str, Any]:
    """Send `batches` batches each way, interleaved, in this one process against the sink: the
    app's offers_send_batch; the same without waiting for WAL flushes; the same sends with no
    status written; and those again with a stopwatch on every step. Each batch is set back to
    pending first (bench database only)."""
    from offers.delivery import offers_send_batch
    from offers.models import ConversionOffer, OfferStatus
    from offers.tasks import SEND_BATCH_SIZE

    def reset(ids: list[int]) -> None:
        ConversionOffer.objects.filter(pk__in=ids).update(
            status=OfferStatus.PENDING, sent_at=None, claimed_at=None
        )

    steps = harness.Stopwatch()
    variants: dict[str, Callable[[list[int]], int]] = {
        "offers_send_batch": offers_send_batch,
        "synchronous_commit_off": without_flush_wait(offers_send_batch),
        "without_status_writes": send_without_status_writes,
        "instrumented": lambda ids: send_without_status_writes(ids, steps),
    }
    groups = list(chunks(offer_ids, SEND_BATCH_SIZE))
    # As many rounds as there are batches for (after one warm-up batch).
    batches = min(batches, (len(groups) - 1) // len(variants))
    reset(groups[0])
    offers_send_batch(groups[0])  # warm-up: templates, URL resolver, connections
    watch = harness.Stopwatch(backend_cpu=True)
    sent = 0
    rest = iter(groups[1:])
    for _ in range(batches):
        for name, send in variants.items():
            ids = next(rest)
            reset(ids)
            with watch(name):
                sent += send(ids)
    delivered = harness.sink_call(control_port, "take")["total"]

    def p50(samples: list[float]) -> float:
        return round(statistics.median(samples), 1)

    batch_ms = {
        name: {
            "wall_p50": p50(t.wall_ms),
            "wall_mean": round(statistics.fmean(t.wall_ms), 1),
            "cpu_p50": p50(t.cpu_ms),
            "pg_cpu_p50": p50(t.backend_cpu_ms),
        }
        for name, t in watch.pieces.items()
    }
    per_batch = {
        piece: {
            "wall": round(sum(t.wall_ms) / batches, 1),
            "cpu": round(sum(t.cpu_ms) / batches, 1),
        }
        for piece, t in steps.pieces.items()
    }
    if batches:
        build = per_batch["build (OfferMail.build)"]
        rebuild = per_batch.pop("rebuild (OfferMail.build, variants already rendered)")
        variants_piece = "~ of build: template variants (build minus a rebuild with them rendered)"
        per_batch[variants_piece] = {
            unit: round(build[unit] - rebuild[unit], 1) for unit in ("wall", "cpu")
        }
        # From other batches than the pieces above: the p50 of the app's batch against the p50
        # of the same sends with no status written.
        app, bare = batch_ms["offers_send_batch"], batch_ms["without_status_writes"]
        writes_piece = (
            "claim + per-message sent records (offers_send_batch - without_status_writes)"
        )
        per_batch[writes_piece] = {
            "wall": round(app["wall_p50"] - bare["wall_p50"], 1),
            "cpu": round(app["cpu_p50"] - bare["cpu_p50"], 1),
        }
    return {
        "batches": batches,
        "batch_size": SEND_BATCH_SIZE,
        "messages_sent": sent,
        "sink_received": delivered,
        "batch_ms": batch_ms,
        "instrumented_ms_per_batch": per_batch,
    }


def run_after(args: argparse.Namespace) -> AfterResult:
    harness.setup_django()
    from django.db.models import Count

    from offers.models import ConversionOffer

    result = AfterResult()
    offers = ConversionOffer.objects.filter(campaign_run_id=args.run_id)
    result.statuses = dict(offers.values_list("status").annotate(n=Count("pk")).order_by())
    result.send_attempts = {
        str(k): v for k, v in offers.values_list("send_attempts").annotate(n=Count("pk")).order_by()
    }
    offer_ids = list(offers.order_by("pk").values_list("pk", flat=True))
    built = _build_messages(offer_ids, result)
    _reference(built, result, args.smtp_port, args.control_port, django_floor=args.last)
    if args.last and args.profile_batches:
        result.profile = _profile(offer_ids, args.profile_batches, args.control_port)
    if not args.last:
        _forget_campaigns()
    return result


def _forget_campaigns() -> None:
    """Delete the offers and runs bench campaigns made, so the same clients are eligible again
    (the seeded past offers belong to no run), and tidy up as autovacuum would."""
    from django.db import connection

    from offers.models import CampaignRun, ConversionOffer

    ConversionOffer.objects.filter(campaign_run__isnull=False).delete()
    CampaignRun.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- Parent: database, sink, worker, the run, the summary -----------------------------------------
# How the worker's batch function may be swapped for an A/B run (--variant); "app" is the app.
# Only wrappers of the app's public offers_send_batch: a variant that changed how a batch claims
# or marks its offers would have to copy the app's private steps.
VARIANTS = ("app", "synchronous-commit-off")


def run_worker_shim(variant: str, celery_args: list[str]) -> None:
    """Start a Celery worker whose offers_send_batch is a bench variant (inherited by the pool's
    forked children; offers.tasks looks the function up on the module at every call)."""
    harness.setup_django()
    from celery.__main__ import main as celery_main

    from offers import delivery

    if variant == "synchronous-commit-off":
        delivery.offers_send_batch = without_flush_wait(delivery.offers_send_batch)
    sys.argv = ["celery", *celery_args]
    celery_main()


class Worker:
    """`celery worker --concurrency 4` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, variant: str = "app") -> None:
        self.log_path = log_path
        self.log = log_path.open("wb")
        celery_args = [
            "--app", "consultancy", "worker", "--concurrency", str(WORKER_CONCURRENCY),
            "--loglevel", "INFO", "--hostname", "bench-campaign@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if variant == "app":
            command = [sys.executable, "-m", "celery", *celery_args]
        else:
            command = [sys.executable, str(Path(__file__).resolve()), "--worker-shim", variant]
            command += celery_args
        self.proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < WORKER_READY_TIMEOUT_S:
            if self.proc.poll() is not None:
                break
            if b" ready." in self.log_path.read_bytes():
                return time.monotonic() - started
            time.sleep(0.1)
        raise RuntimeError(f"the worker did not get ready:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def pids(self) -> list[int]:
        return harness.process_group(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


@dataclass
class RunResult:
    worker_ready_s: float = 0.0
    campaign: dict[str, Any] = field(default_factory=dict)
    emails: int = 0
    distinct: int = 0
    duplicates: int = 0
    duplicate_emails: int = 0
    lost: int = 0
    unexpected: int = 0
    seconds: float = 0.0  # campaign start until every eligible recipient has its email
    campaign_run_s: float = 0.0  # campaign_run() until its first chunk of offers committed
    all_committed_s: float = 0.0  # campaign_run() until its last chunk committed
    queue_s: float = 0.0
    first_email_s: float = 0.0  # campaign start until the first email arrived
    sending_s: float = 0.0  # first email until the last expected one
    cpu_s: dict[str, float] = field(default_factory=dict)
    machine_busy_pct: float = 0.0
    load_avg: float = 0.0
    # Queries of other databases on the same server running at a sampled moment, on average:
    # their CPU lands in cpu_s["postgres"], not in cpu_s["other"].
    other_databases_active: float = 0.0
    worker_errors: list[str] = field(default_factory=list)


class OtherDatabases:
    """Samples how many queries of other databases the PostgreSQL server is running."""

    def __init__(self, server_url: str, database: str) -> None:
        self.conn = harness.maintenance_connection(server_url)
        self.database = database
        self.samples: list[int] = []

    def sample(self) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " AND datname IS DISTINCT FROM %s",
                [self.database],
            )
            self.samples.append(cursor.fetchone()[0])

    def average(self) -> float:
        self.conn.close()
        return round(statistics.fmean(self.samples), 2) if self.samples else 0.0


def real_run(
    env: dict[str, str],
    sink: harness.Sink,
    expected: set[str],
    log_path: Path,
    variant: str,
    others: OtherDatabases,
) -> RunResult:
    import redis

    result = RunResult()
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    worker = Worker(env, log_path, variant)
    try:
        result.worker_ready_s = round(worker.wait_ready(), 1)
        sink("take")
        pids = worker.pids()
        worker_cpu0 = harness.process_cpu_s(pids)
        sink_cpu0 = harness.process_cpu_s([sink.proc.pid])
        postgres_cpu0 = harness.postgres_cpu_s()
        children_cpu0 = harness.children_cpu_s()
        busy0, total0 = harness.machine_cpu()

        campaign = harness.run_child(__file__, "--child", "campaign", env=env)
        result.campaign = campaign
        started = campaign["started_at"]
        last_total, last_change = -1, time.monotonic()
        for polls in itertools.count():
            if polls % 5 == 0:
                others.sample()
            stats = sink("stats")
            if stats["distinct"] >= len(expected):
                time.sleep(GRACE_S)
                break
            if stats["total"] != last_total:
                last_total, last_change = stats["total"], time.monotonic()
            elif time.monotonic() - last_change > STALL_S or worker.proc.poll() is not None:
                break
            time.sleep(0.1)

        busy1, total1 = harness.machine_cpu()
        result.cpu_s = {
            "worker": round(harness.process_cpu_s(worker.pids()) - worker_cpu0, 1),
            "sink": round(harness.process_cpu_s([sink.proc.pid]) - sink_cpu0, 1),
            # Every database on the server: other sessions' test databases too.
            "postgres": round(harness.postgres_cpu_s() - postgres_cpu0, 1),
            # The campaign child (the sink is still running, so it is not in RUSAGE_CHILDREN).
            "campaign_child": round(harness.children_cpu_s() - children_cpu0, 1),
            "machine_busy": round(busy1 - busy0, 1),
            "machine_capacity": round(total1 - total0, 1),
        }
        result.cpu_s["other"] = round(
            result.cpu_s["machine_busy"]
            - sum(result.cpu_s[k] for k in ("worker", "sink", "postgres", "campaign_child")),
            1,
        )
        result.machine_busy_pct = round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1)
        result.load_avg = harness.load_average()
        result.other_databases_active = others.average()
        inbox = sink("take")
    finally:
        worker.stop()
    result.worker_errors = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if " ERROR " in line or "Traceback" in line or " WARNING " in line
    ][:20]

    counts: dict[str, int] = inbox["counts"]
    result.emails = inbox["total"]
    result.distinct = len(counts)
    result.duplicates = sum(1 for n in counts.values() if n > 1)
    result.duplicate_emails = sum(n - 1 for n in counts.values() if n > 1)
    result.lost = sum(1 for e in expected if e not in counts)
    result.unexpected = sum(1 for e in counts if e not in expected)
    arrivals = [inbox["first_seen"][e] for e in expected if e in counts]
    done = max(arrivals) if arrivals else time.monotonic()
    result.seconds = round(done - started, 2)
    result.campaign_run_s = round(campaign["committed_at"] - started, 2)
    result.all_committed_s = round(campaign["last_committed_at"] - started, 2)
    result.queue_s = round(campaign["queueing_s"], 3)
    if inbox["first_at"] is not None:
        result.first_email_s = round(inbox["first_at"] - started, 2)
        result.sending_s = round(done - inbox["first_at"], 2)
    return result


def report_eligibility(seed: dict[str, Any]) -> None:
    print(
        f"== {seed['population']:,} clients, {seed['eligible']:,} eligible; offers by fit: "
        f"{seed['kinds']}"
        + (f" (seeded in {seed['seed_s']}s: {seed['counts']})" if seed["seeded"] else " (kept)")
    )
    print(
        f"   eligibility with the replay, campaign_preview(): p50 {seed['p50_ms']} ms, p95 "
        f"{seed['p95_ms']}"
        f" ms, max {seed['max_ms']} ms ({seed['runs']} runs); CPU p50: PostgreSQL "
        f"{seed['postgres_cpu_p50_ms']} ms, Python {seed['python_cpu_p50_ms']} ms"
    )
    print(f"   its eligibility SQL alone: p50 {seed['sql_p50_ms']} ms, p95 {seed['sql_p95_ms']} ms")
    print(
        f"   the app's connections have jit {seed['jit']}; the same with jit "
        f"{'on' if seed['jit'] == 'off' else 'off'}: p50 {seed['other_jit_p50_ms']} ms, p95 "
        f"{seed['other_jit_p95_ms']} ms"
    )
    print("   EXPLAIN (ANALYZE, BUFFERS), as the app runs it:")
    for line in seed["plan"]:
        print(f"     {line}")


def report_repetition(n: int, eligible: int, run: dict[str, Any], after: dict[str, Any]) -> None:
    c = run["campaign"]
    print(
        f"== campaign {n}: {c['offers']:,} offers in {c['tasks']} tasks; worker ready in "
        f"{run['worker_ready_s']}s"
    )
    print(
        f"   campaign_run() to its first commit {run['campaign_run_s']}s, to its last "
        f"{run['all_committed_s']}s, queueing {run['queue_s']}s, first "
        f"email at {run['first_email_s']}s, all {eligible:,} at {run['seconds']}s (sending "
        f"{run['sending_s']}s)"
    )
    print(
        f"   sink: {run['emails']:,} emails to {run['distinct']:,} recipients; duplicates "
        f"{run['duplicates']}, lost {run['lost']}, unexpected {run['unexpected']}"
    )
    print(f"   offers by status: {after['statuses']}; send attempts: {after['send_attempts']}")
    print(
        f"   CPU seconds during the run: {run['cpu_s']}; machine busy {run['machine_busy_pct']}%,"
        f" load average {run['load_avg']}; other databases' queries running "
        f"{run['other_databases_active']} on average"
    )
    for line in run["worker_errors"]:
        print(f"   worker: {line}")
    print(
        f"   reference: {after['messages']:,} messages (avg {after['message_bytes_avg']:,} bytes)"
        f" over one smtplib connection in {after['reference_s']:.2f}s = "
        f"{after['reference_emails_per_s']} emails/s (mean of passes at "
        f"{after['reference_passes_emails_per_s']}/s; {after['reference_delivered']:,} delivered)"
    )
    print(f"   reference CPU (sender + sink): {after['reference_cpu_ms_per_email']} ms per email")
    print(
        f"   preparing them in one process: fetch {after['fetch_s']:.2f}s, OfferMail.build "
        f"{after['build_s']:.2f}s, Django's MIME encoding {after['serialise_s']:.2f}s"
    )
    if after["django_s"]:
        print(
            f"   the same built messages through Django's SMTP backend, 100 per connection: "
            f"{after['django_s']:.2f}s = {after['django_emails_per_s']} emails/s"
        )
    if profile := after.get("profile"):
        print(
            f"== one batch of {profile['batch_size']} in one process against the sink "
            f"({profile['batches']} batches per variant, interleaved; ms per batch):"
        )
        for name, figures in profile["batch_ms"].items():
            print(f"   {name:<24} {figures}")
        print(
            "   without_status_writes with a stopwatch on every step, and what the status writes"
            " cost (ms per batch, wall / this process's CPU):"
        )
        for piece, ms in profile["instrumented_ms_per_batch"].items():
            print(f"   {ms['wall']:7.1f} / {ms['cpu']:6.1f}  {piece}")


def repetition_row(eligible: int, run: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    rate = round(eligible / run["seconds"], 1) if run["seconds"] and not run["lost"] else 0.0
    reference = after["reference_emails_per_s"]
    return {
        "seconds": run["seconds"],
        "emails": run["emails"],
        "emails_per_s": rate,
        "reference_emails_per_s": reference,
        "ratio": round(rate / reference, 3) if reference else 0.0,
        "campaign_run_s": run["campaign_run_s"],
        "all_committed_s": run["all_committed_s"],
        "first_email_s": run["first_email_s"],
        "sending_s": run["sending_s"],
        "sending_emails_per_s": round(eligible / run["sending_s"], 1) if run["sending_s"] else 0,
        "duplicates": run["duplicates"],
        "lost": run["lost"],
        "unexpected": run["unexpected"],
        "offers_sent": after["statuses"].get("sent", 0),
        "offers": run["campaign"]["offers"],
        "cpu_s": run["cpu_s"],
        # Worker, sink and the campaign child per email (PostgreSQL is left out: its figure
        # covers every database on the server, other people's tests included).
        "cpu_ms_per_email": round(
            sum(run["cpu_s"][k] for k in ("worker", "sink", "campaign_child")) * 1000 / eligible, 3
        ),
        "reference_cpu_ms_per_email": after["reference_cpu_ms_per_email"],
        "machine_busy_pct": run["machine_busy_pct"],
        "load_avg": run["load_avg"],
        "other_databases_active": run["other_databases_active"],
        "quiet": run["cpu_s"]["other"] <= QUIET_OTHER_SHARE * run["cpu_s"]["machine_capacity"]
        and run["other_databases_active"] <= QUIET_OTHER_QUERIES,
    }


def _app_commit() -> str:
    """The commit the app was measured at, with "+dirty" when its code had local changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--",
                "clients",
                "contracts",
                "offers",
                "tickets",
                "consultancy",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""
    return head + ("+dirty" if dirty else "")


def summarise(
    seed: dict[str, Any], rows: list[dict[str, Any]], last_after: dict[str, Any], variant: str
) -> dict[str, Any]:
    eligible = len(seed["eligible_emails"])

    def median_of(candidates: list[dict[str, Any]]) -> dict[str, Any]:
        # The repetition with the median ratio (the lower one of two middles).
        return sorted(candidates, key=lambda r: r["ratio"])[(len(candidates) - 1) // 2]

    # Judged on the undisturbed repetitions when there are any, else on all of them (noted).
    quiet = [r for r in rows if r["quiet"]]
    median = median_of(quiet or rows)
    duplicates = sum(r["duplicates"] for r in rows)
    lost = sum(r["lost"] for r in rows)
    all_sent = all(r["offers_sent"] == r["offers"] for r in rows)
    at_50k = seed["population"] == DEFAULT_POPULATION
    checks = {
        f"rate {median['ratio']} of the reference (median of {len(quiet or rows)}"
        f"{' quiet' if quiet else ''} runs) >= {RATIO_MIN}": median["ratio"] >= RATIO_MIN,
        f"eligibility p95 {seed['p95_ms']} ms <= {ELIGIBILITY_MS_MAX:g} ms": seed["p95_ms"]
        <= ELIGIBILITY_MS_MAX,
        f"duplicates {duplicates} == 0": duplicates == 0,
        f"lost {lost} == 0": lost == 0,
        "every offer sent in every repetition": all_sent,
    }
    notes = []
    if not at_50k:
        notes.append(f"eligibility timed at {seed['population']:,} clients, not 50,000")
    if eligible != DEFAULT_ELIGIBLE:
        notes.append(f"{eligible:,} eligible clients, not 10,000")
    if variant != "app":
        notes.append(f"worker variant {variant!r}: an A/B measurement, not judged")
    for n, row in enumerate(rows, 1):
        if not row["quiet"]:
            notes.append(
                f"campaign {n} was disturbed: processes outside the bench used "
                f"{row['cpu_s']['other']}s of {row['cpu_s']['machine_capacity']}s CPU, other "
                f"databases ran {row['other_databases_active']} queries on average"
            )
    if not quiet:
        notes.append("no campaign run was undisturbed: the rate is judged on a busy machine")
    return {
        "bench": "campaign",
        "commit": _app_commit(),
        "variant": variant,
        "worker_concurrency": WORKER_CONCURRENCY,
        "clients": eligible,
        "population": seed["population"],
        "emails": median["emails"],
        "seconds": median["seconds"],
        "emails_per_s": median["emails_per_s"],
        "reference_emails_per_s": median["reference_emails_per_s"],
        "ratio_to_reference": median["ratio"],
        "ratios": [r["ratio"] for r in rows],
        "quiet_runs": [n for n, r in enumerate(rows, 1) if r["quiet"]],
        "ratio_median_all_runs": median_of(rows)["ratio"],
        "duplicates": duplicates,
        "lost": lost,
        "unexpected": sum(r["unexpected"] for r in rows),
        "campaign_run_s": median["campaign_run_s"],
        "sending_emails_per_s": median["sending_emails_per_s"],
        "django_backend_emails_per_s": last_after["django_emails_per_s"],
        "eligibility_50k_p50_ms": seed["p50_ms"] if at_50k else None,
        "eligibility_50k_p95_ms": seed["p95_ms"] if at_50k else None,
        "eligibility_p50_ms": seed["p50_ms"],
        "eligibility_p95_ms": seed["p95_ms"],
        "eligibility_measures": "campaign_preview(): eligibility query and replay",
        "offers_by_fit": seed["kinds"],
        "eligibility_postgres_cpu_p50_ms": seed["postgres_cpu_p50_ms"],
        "eligibility_jit": seed["jit"],
        "eligibility_other_jit_p50_ms": seed["other_jit_p50_ms"],
        "eligibility_other_jit_p95_ms": seed["other_jit_p95_ms"],
        "repetitions": rows,
        "profile_batch_ms": last_after.get("profile", {}).get("batch_ms"),
        "targets": {
            "ratio_min": RATIO_MIN,
            "eligibility_ms_max": ELIGIBILITY_MS_MAX,
            "duplicates": 0,
            "lost": 0,
        },
        "checks": checks,
        "notes": notes,
        "pass": all(checks.values()) if variant == "app" else None,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker-shim"]:
        run_worker_shim(argv[1], argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eligible", type=int, default=DEFAULT_ELIGIBLE)
    parser.add_argument("--population", type=int, default=DEFAULT_POPULATION)
    parser.add_argument("--tickets", type=int, default=DEFAULT_TICKETS)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="campaign runs, each with its own reference measurement (the median is judged)",
    )
    parser.add_argument(
        "--eligibility-runs",
        type=int,
        default=ELIGIBILITY_RUNS,
        help="timed runs of the eligibility query, each way (at least 2)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--reuse", action="store_true", help="use a kept database as it is (implies --keep)"
    )
    parser.add_argument(
        "--profile-batches",
        type=int,
        default=8,
        help="batches per variant for the in-process batch profile (0: skip)",
    )
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="app",
        help="A/B only: swap the worker's batch function (targets are judged for 'app' only)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--run-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--last", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--smtp-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--control-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        runners: dict[str, Callable[[argparse.Namespace], Any]] = {
            "seed": run_seed,
            "campaign": run_campaign,
            "after": run_after,
        }
        harness.report_to_parent(runners[args.child](args))
        return 0

    # One bench at a time on this machine, from any checkout: a second one would drop the first
    # one's database and flush its Redis database (its queued batches would never arrive), and
    # its worker would take the first one's tasks.
    lock = (Path(tempfile.gettempdir()) / "consultancy-bench-campaign.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("Another bench/campaign.py is running; try again when it has finished.")
        return 1
    server_url = harness.server_url()
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)
    database = f"{DATABASE_PREFIX}{args.population}"
    harness.create_database(server_url, database, reuse=args.reuse)
    sink = harness.Sink()
    env = django_env(harness.database_url(server_url, database), redis_url, sink.smtp_port)
    sizes = ["--eligible", str(args.eligible), "--population", str(args.population)]
    sizes += ["--tickets", str(args.tickets), "--eligibility-runs", str(args.eligibility_runs)]
    log_path = ROOT / "var" / "bench-campaign-worker.log"
    rows, after = [], {}
    try:
        seed = harness.run_child(__file__, "--child", "seed", *sizes, env=env)
        report_eligibility(seed)
        expected = set(seed["eligible_emails"])
        for n in range(1, max(args.repeat, 1) + 1):
            others = OtherDatabases(server_url, database)
            run = asdict(real_run(env, sink, expected, log_path, args.variant, others))
            last = ["--last"] if n == max(args.repeat, 1) else []
            after = harness.run_child(
                __file__,
                "--child", "after",
                "--run-id", str(run["campaign"]["run_id"]),
                "--smtp-port", str(sink.smtp_port),
                "--control-port", str(sink.control_port),
                "--profile-batches", str(args.profile_batches),
                *last,
                env=env,
            )  # fmt: skip
            report_repetition(n, len(expected), run, after)
            rows.append(repetition_row(len(expected), run, after))
    finally:
        sink.stop()
        if not (args.keep or args.reuse):
            harness.drop_database(server_url, database)
    summary = summarise(seed, rows, after, args.variant)
    print(
        "== per campaign run: "
        + "; ".join(
            f"{r['emails_per_s']}/s vs {r['reference_emails_per_s']}/s = {r['ratio']}"
            f"{'' if r['quiet'] else ' (disturbed)'}"
            for r in rows
        )
    )
    harness.print_summary(summary, not_judged="the worker ran a bench variant.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
