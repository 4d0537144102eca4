"""Build a believable demo practice: plans, clients, contracts, a year of tickets, time and charges.

Everything is generated from a seeded random generator and written with bulk_create in batches,
so 10,000 clients and 100,000 tickets load in well under two minutes on PostgreSQL. Queue keys
are computed with the same SLA engine the ticket services use.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from typing import TypeVar

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import models, transaction
from django.utils import timezone

from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientEventKind,
    ClientStatus,
    Contact,
)
from clients.services import dropped_summary
from consultancy.roles import CONSULTANTS, MANAGERS
from contracts import history as contract_history
from contracts.models import (
    BusinessCalendar,
    ContractPlan,
    ContractStatus,
    Coverage,
    Holiday,
    Priority,
    ServiceContract,
    ServiceLevel,
)
from contracts.services import term_end
from contracts.sla import WorkingHours, add_covered_minutes, add_covered_time, risk_point
from tickets.models import (
    OPEN_STATUSES,
    QueueTier,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    TimeEntry,
)

BATCH = 5000
M = TypeVar("M", bound=models.Model)
CENT = Decimal("0.01")

DEMO_USERS = [
    # username, password, first, last, group
    ("manager", "demo-manager-2026", "Morgan", "Reyes", MANAGERS),
    ("consultant", "demo-consultant-2026", "Casey", "Nguyen", CONSULTANTS),
    ("jordan", "demo-consultant-2026", "Jordan", "Blake", CONSULTANTS),
    ("priya", "demo-consultant-2026", "Priya", "Raman", CONSULTANTS),
]

# name, monthly price, included hours, coverage, overage rate, {priority: (response, resolution)}
PLANS = [
    ("Essential", "290.00", "4", Coverage.BUSINESS_HOURS, "115.00",
     {Priority.URGENT: (120, 480), Priority.HIGH: (240, 960), Priority.NORMAL: (480, 2400), Priority.LOW: (960, 4800)}),
    ("Professional", "590.00", "10", Coverage.BUSINESS_HOURS, "105.00",
     {Priority.URGENT: (60, 240), Priority.HIGH: (120, 480), Priority.NORMAL: (240, 1440), Priority.LOW: (480, 2880)}),
    ("Premier 24x7", "1190.00", "24", Coverage.ALWAYS, "95.00",
     {Priority.URGENT: (30, 180), Priority.HIGH: (60, 360), Priority.NORMAL: (180, 1440), Priority.LOW: (480, 2880)}),
]  # fmt: skip

NAME_FIRST = [
    "Harbor", "Maple", "Summit", "Cedar", "Bluewater", "Granite", "Willow", "Lakeside", "Pioneer",
    "Riverbend", "Oakridge", "Northgate", "Sterling", "Beacon", "Redwood", "Brightline", "Keystone",
    "Meadow", "Ironwood", "Silverleaf", "Crescent", "Evergreen", "Foxglove", "Hawthorne", "Juniper",
]  # fmt: skip
NAME_SECOND = [
    "Dental", "Family Law", "Accounting", "Veterinary Clinic", "Realty", "Architects", "Insurance",
    "Chiropractic", "Bakery", "Auto Repair", "Physical Therapy", "Wealth Advisors", "Print Shop",
    "Pharmacy", "Logistics", "Engineering", "Optometry", "Landscaping", "Title & Escrow", "Studio",
]  # fmt: skip
NAME_SUFFIX = ["LLC", "Group", "Partners", "& Co.", "Inc.", "Associates", "PC", ""]
PEOPLE_FIRST = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Frank", "Grace", "Hiro", "Ines", "Jack",
                "Kira", "Liam", "Maya", "Noah", "Olga", "Pat", "Quinn", "Rosa", "Sam", "Tess"]  # fmt: skip
PEOPLE_LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
               "Jones", "Khan", "Lopez", "Miller", "Novak", "Ortiz", "Patel", "Quinn", "Ross"]  # fmt: skip
SUBJECTS = [
    "Email not syncing on {device}", "{device} will not boot", "VPN drops every few minutes",
    "Printer offline on the front desk", "New hire needs an account and laptop", "Backup job failed last night",
    "Wi-Fi slow in the conference room", "Outlook keeps asking for a password", "Ransomware warning popup",
    "Shared drive permissions for {person}", "Phone system not ringing through", "Replace failing disk in {device}",
    "Install accounting software update", "Firewall firmware upgrade", "Scanner does not send to email",
    "Website SSL certificate expiring", "QuickBooks file locked", "{person} locked out of their account",
]  # fmt: skip
DEVICES = [
    "the reception PC",
    "the server",
    "Dr. Patel's laptop",
    "the MacBook",
    "the NAS",
    "workstation 3",
]
PRIORITY_WEIGHTS = {Priority.LOW: 20, Priority.NORMAL: 50, Priority.HIGH: 22, Priority.URGENT: 8}


def us_holidays(year: int) -> list[tuple[dt.date, str]]:
    """Return the practice's observed holidays for `year` (fixed and floating US holidays)."""

    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last_weekday(month: int, weekday: int) -> dt.date:
        last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)

    return [
        (dt.date(year, 1, 1), "New Year's Day"),
        (last_weekday(5, 0), "Memorial Day"),
        (dt.date(year, 7, 4), "Independence Day"),
        (nth_weekday(9, 0, 1), "Labor Day"),
        (nth_weekday(11, 3, 4), "Thanksgiving"),
        (dt.date(year, 12, 25), "Christmas Day"),
    ]


@dataclass
class SeedReport:
    created: bool
    clients: int = 0
    contracts: int = 0
    tickets: int = 0
    open_tickets: int = 0
    time_entries: int = 0
    charges: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)


def _ensure_reference_data() -> tuple[list[ContractPlan], BusinessCalendar, list[User]]:
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Office hours", defaults={"timezone": settings.TIME_ZONE}
    )
    this_year = timezone.localdate().year
    for year in (this_year - 1, this_year, this_year + 1):
        for day, name in us_holidays(year):
            Holiday.objects.get_or_create(calendar=calendar, date=day, defaults={"name": name})
    plans = []
    for name, price, hours, coverage, overage, targets in PLANS:
        plan, created = ContractPlan.objects.get_or_create(
            name=name,
            defaults={
                "monthly_price": Decimal(price),
                "included_hours": Decimal(hours),
                "coverage": coverage,
                "overage_hourly_rate": Decimal(overage),
                "calendar": calendar,
                "description": f"{hours} hours a month included, {Coverage(coverage).label.lower()} coverage.",
            },
        )
        if created:
            ServiceLevel.objects.bulk_create(
                ServiceLevel(plan=plan, priority=p, response_minutes=r, resolution_minutes=s)
                for p, (r, s) in targets.items()
            )
        plans.append(plan)
    users = []
    for username, password, first, last, group in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@practice.example",
                "is_staff": True,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group))
        users.append(user)
    return plans, calendar, users


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def seed_demo(*, clients: int = 200, tickets: int = 3000, seed: int = 2026) -> SeedReport:
    """Create the demo practice unless clients already exist; return what was created."""
    with transaction.atomic():
        plans, calendar, users = _ensure_reference_data()
    report = SeedReport(
        created=False,
        users=[(u, p, g) for u, p, _f, _l, g in DEMO_USERS],
    )
    if Client.objects.exists():
        report.clients = Client.objects.count()
        report.tickets = Ticket.objects.count()
        return report
    with transaction.atomic():
        _generate(report, random.Random(seed), plans, calendar, users, clients, tickets)
    report.created = True
    return report


def _generate(
    report: SeedReport,
    rng: random.Random,
    plans: list[ContractPlan],
    calendar: BusinessCalendar,
    users: list[User],
    n_clients: int,
    n_tickets: int,
) -> None:
    now = timezone.now()
    today = timezone.localdate()
    hours = calendar.working_hours()
    consultants = users[1:]
    levels = {
        (lvl.plan_id, lvl.priority): lvl for lvl in ServiceLevel.objects.filter(plan__in=plans)
    }

    # --- Clients and contacts -------------------------------------------------------------
    client_rows = []
    seen: set[str] = set()
    for i in range(n_clients):
        name = (
            f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {rng.choice(NAME_SUFFIX)}".strip()
        )
        if name in seen:
            name = f"{name} ({i + 1})"
        seen.add(name)
        dropped = rng.random() < 0.04
        client_rows.append(
            Client(
                name=name,
                customer_since=today - dt.timedelta(days=rng.randint(60, 9 * 365)),
                offers_opt_out=rng.random() < 0.05,
                status=ClientStatus.DROPPED if dropped else ClientStatus.ACTIVE,
                dropped_at=now - dt.timedelta(days=rng.randint(5, 200)) if dropped else None,
                drop_reason="Never converted; one-off work only." if dropped else "",
            )
        )
    created_clients = _bulk(Client, client_rows)
    report.clients = len(created_clients)

    contacts = []
    for client in created_clients:
        for k in range(rng.choice((1, 1, 2, 3))):
            first, last = rng.choice(PEOPLE_FIRST), rng.choice(PEOPLE_LAST)
            domain = "".join(ch for ch in client.name.lower() if ch.isalnum())[:20] or "client"
            contacts.append(
                Contact(
                    client=client,
                    name=f"{first} {last}",
                    email=f"{first.lower()}.{last.lower()}{k or ''}@{domain}.example",
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    is_primary=k == 0,
                )
            )
    created_contacts = _bulk(Contact, contacts)
    primary_contact = {c.client_id: c for c in created_contacts if c.is_primary}

    # --- Contracts: about 40% of active clients, spread over the three plans -------------------
    contract_rows = []
    for client in created_clients:
        if client.status != ClientStatus.ACTIVE or rng.random() >= 0.42:
            continue
        plan = rng.choices(plans, weights=(45, 40, 15))[0]
        starts_on = today - dt.timedelta(days=rng.randint(20, 340))
        discount = Decimal(rng.choice(("0", "0", "5", "10")))
        contract_rows.append(
            ServiceContract(
                client=client,
                plan=plan,
                status=ContractStatus.ACTIVE,
                starts_on=starts_on,
                ends_on=term_end(starts_on, plan.term_months),
                monthly_price=_money(plan.monthly_price * (100 - discount) / 100),
                discount_percent=discount,
                # Signed on the morning its term starts, in the practice's time zone.
                created_at=timezone.make_aware(dt.datetime.combine(starts_on, dt.time(9, 30))),
            )
        )
    created_contracts = _bulk(ServiceContract, contract_rows)
    report.contracts = len(created_contracts)
    # Each client's history opens with what the services would have written.
    history = [
        ClientEvent(
            client_id=c.client_id,
            kind=ClientEventKind.CONTRACT_STARTED,
            summary=contract_history.contract_started(c, from_offer=False),
            at=c.created_at,
        )
        for c in created_contracts
    ] + [
        ClientEvent(
            client=c,
            kind=ClientEventKind.DROPPED,
            summary=dropped_summary(c.drop_reason),
            at=c.dropped_at or now,
        )
        for c in created_clients
        if c.status == ClientStatus.DROPPED
    ]
    _bulk(ClientEvent, history)
    contract_of = {c.client_id: c for c in created_contracts}
    plan_by_id = {p.pk: p for p in plans}

    # --- Tickets -----------------------------------------------------------------------------
    # Contract clients call more often; dropped clients stopped calling.
    weights = [
        0.0
        if c.status == ClientStatus.DROPPED
        else (3.0 if c.pk in contract_of else 1.0) * rng.uniform(0.3, 1.7)
        for c in created_clients
    ]
    cumulative = list(accumulate(weights))  # choices() would re-add 10,000 weights per ticket
    charges: list[Charge] = []
    ticket_rows: list[Ticket] = []
    ticket_meta: list[
        tuple[int | None, int]
    ] = []  # (index of the priority charge, minutes of work)
    priorities = list(PRIORITY_WEIGHTS)
    priority_weights = list(PRIORITY_WEIGHTS.values())
    for _ in range(n_tickets):
        client = rng.choices(created_clients, cum_weights=cumulative)[0]
        # Recent days are busier in the sample so that today's queue has work in it.
        age = dt.timedelta(
            minutes=rng.randint(5, 365 * 24 * 60)
            if rng.random() < 0.94
            else rng.randint(5, 14 * 24 * 60)
        )
        opened_at = now - age
        priority = rng.choices(priorities, weights=priority_weights)[0]
        contract = contract_of.get(client.pk)
        if contract and not contract.covers(timezone.localtime(opened_at).date()):
            contract = None
        status = _status_for_age(rng, age, on_contract=contract is not None)
        ticket = Ticket(
            client=client,
            contact=primary_contact.get(client.pk),
            subject=rng.choice(SUBJECTS).format(
                device=rng.choice(DEVICES), person=rng.choice(PEOPLE_FIRST)
            ),
            description="Reported by phone. The user says it started this morning and nothing was changed.",
            priority=priority,
            status=status,
            opened_at=opened_at,
            assignee=None if status == TicketStatus.NEW else rng.choice(consultants),
        )
        charge_index = None
        if contract is not None:
            plan = plan_by_id[contract.plan_id]
            level = levels[(plan.pk, priority)]
            work_hours: WorkingHours | None = None if plan.is_24x7 else hours
            ticket.contract = contract
            ticket.queue_tier = QueueTier.CONTRACT
            ticket.response_due_at = add_covered_minutes(
                opened_at, level.response_minutes, work_hours
            )
            ticket.resolution_due_at = add_covered_minutes(
                opened_at, level.resolution_minutes, work_hours
            )
            ticket.response_risk_at = add_covered_time(
                opened_at, risk_point(level.response_minutes), work_hours
            )
            ticket.resolution_risk_at = add_covered_time(
                opened_at, risk_point(level.resolution_minutes), work_hours
            )
            ticket.queue_due_at = ticket.response_due_at
        elif rng.random() < 0.12:
            ticket.paid_priority = True
            ticket.queue_tier = QueueTier.PAID_PRIORITY
            charge_index = len(charges)
            charges.append(
                Charge(
                    client=client,
                    kind=ChargeKind.PAID_PRIORITY,
                    amount=settings.PAID_PRIORITY_SURCHARGE,
                    description="Paid priority service",
                    occurred_at=opened_at,
                )
            )
        else:
            ticket.queue_tier = QueueTier.STANDARD
        if status != TicketStatus.NEW:
            ticket.first_response_at = min(
                opened_at + dt.timedelta(minutes=rng.randint(10, 600)), now
            )
            if ticket.queue_due_at is not None:
                ticket.queue_due_at = ticket.resolution_due_at
        if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
            ticket.resolved_at = min(
                opened_at + dt.timedelta(minutes=rng.randint(60, 4 * 24 * 60)), now
            )
        if status == TicketStatus.CLOSED:
            resolved_at = ticket.resolved_at or now
            ticket.closed_at = min(resolved_at + dt.timedelta(days=rng.randint(1, 5)), now)
        if status == TicketStatus.WAITING_ON_CLIENT:
            ticket.sla_paused_at = ticket.first_response_at
        minutes = rng.choice((15, 30, 45, 60, 90, 120, 180)) if status != TicketStatus.NEW else 0
        ticket_rows.append(ticket)
        ticket_meta.append((charge_index, minutes))

    # --- Time entries: covered by the contract's monthly hours first, then billed ---------------
    used: dict[tuple[int, int, int], int] = defaultdict(int)
    time_plan: list[tuple[int, int, int, int | None, Ticket]] = []
    order = sorted(range(len(ticket_rows)), key=lambda i: ticket_rows[i].opened_at)
    for i in order:
        ticket = ticket_rows[i]
        minutes = ticket_meta[i][1]
        if not minutes:
            continue
        covered = 0
        if ticket.contract is not None:
            plan = plan_by_id[ticket.contract.plan_id]
            key = (ticket.contract.pk, ticket.opened_at.year, ticket.opened_at.month)
            allowance = int(plan.included_hours * 60) - used[key]
            covered = max(0, min(minutes, allowance))
            used[key] += covered
        billable = minutes - covered
        charge_index = None
        if billable:
            rate = (
                plan_by_id[ticket.contract.plan_id].overage_hourly_rate
                if ticket.contract is not None
                else settings.HOURLY_RATE
            )
            charge_index = len(charges)
            charges.append(
                Charge(
                    client=ticket.client,
                    kind=ChargeKind.OVERAGE if ticket.contract is not None else ChargeKind.LABOUR,
                    amount=_money(rate * billable / 60),
                    hours=_money(Decimal(billable) / 60),
                    description=f"{billable} min: {ticket.subject}"[:300],
                    occurred_at=ticket.first_response_at or ticket.opened_at,
                )
            )
        time_plan.append((i, covered, billable, charge_index, ticket))

    created_charges = _bulk(Charge, charges)
    report.charges = len(created_charges)
    for i, ticket in enumerate(ticket_rows):
        charge_index = ticket_meta[i][0]
        if charge_index is not None:
            ticket.priority_charge = created_charges[charge_index]
    created_tickets = _bulk(Ticket, ticket_rows)
    report.tickets = len(created_tickets)
    report.open_tickets = sum(1 for t in created_tickets if t.status in OPEN_STATUSES)

    entries = [
        TimeEntry(
            ticket=ticket,
            consultant=ticket.assignee or consultants[0],
            contract=ticket.contract if covered else None,
            work_date=timezone.localtime(ticket.first_response_at or ticket.opened_at).date(),
            minutes=covered + billable,
            covered_minutes=covered,
            billable_minutes=billable,
            charge=created_charges[charge_index] if charge_index is not None else None,
            note="Remote session",
            created_at=ticket.first_response_at or ticket.opened_at,
        )
        for (_i, covered, billable, charge_index, ticket) in time_plan
    ]
    report.time_entries = len(_bulk(TimeEntry, entries))

    events = []
    for ticket in created_tickets:
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=TicketEventKind.OPENED,
                created_at=ticket.opened_at,
                body=ticket.description,
            )
        )
        if ticket.first_response_at:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=TicketEventKind.REPLY,
                    actor=ticket.assignee,
                    created_at=ticket.first_response_at,
                    body="Thanks, we are looking into it and will update you shortly.",
                )
            )
        if ticket.resolved_at:
            events.append(
                TicketEvent(
                    ticket=ticket,
                    kind=TicketEventKind.STATUS,
                    actor=ticket.assignee,
                    created_at=ticket.resolved_at,
                    from_value=TicketStatus.IN_PROGRESS,
                    to_value=TicketStatus.RESOLVED,
                )
            )
    _bulk(TicketEvent, events)


def _status_for_age(rng: random.Random, age: dt.timedelta, on_contract: bool) -> str:
    """Old tickets are done; open work is young, and youngest for contract clients."""
    days = age.total_seconds() / 86400
    horizon = 2.5 if on_contract else 9.0  # contract clients are served first, so sooner
    if days > horizon or rng.random() < days / (horizon * 1.2):
        return TicketStatus.CLOSED if days > 5 else TicketStatus.RESOLVED
    return rng.choices(
        (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CLIENT),
        weights=(50, 35, 15),
    )[0]


def _bulk(model: type[M], rows: list[M]) -> list[M]:
    return model._default_manager.bulk_create(rows, batch_size=BATCH)
