"""Build a believable demo practice: plans, clients, contracts, tickets, time and charges, and
the conversion campaigns that ran.

Everything is generated from a seeded random generator and written with bulk_create in batches,
so 10,000 clients and 100,000 tickets load in well under two minutes on PostgreSQL. Queue keys
are computed with the same SLA engine the ticket services use.

`_build_practice` below runs the steps in order; each lives in the module named for what it
builds (`reference`, `practice`, `workload`, `timesheets`, `campaigns`). The same seed gives
the same practice only while the steps draw from the generator in the same order, so a step
that needs one more random number changes every row after it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from billing.invoicing import invoices_issue
from billing.models import RunTrigger
from billing.periods import Period, months_between
from billing.run import billing_run
from clients.models import Client
from consultancy.demo.bench import spread_work, staff_consultants
from consultancy.demo.campaigns import (
    choose_converts,
    create_campaign_history,
    history_span,
    past_run_moments,
)
from consultancy.demo.lifecycle import age_contracts
from consultancy.demo.practice import (
    create_client_history,
    create_clients,
    create_contacts,
    create_contracts,
)
from consultancy.demo.reference import ReferenceData, ensure_reference_data, read_service_terms
from consultancy.demo.samples import (
    DEMO_USERS,
    NAME_FIRST,
    NAME_SECOND,
    PEOPLE_FIRST,
    PEOPLE_LAST,
    PLANS,
)
from consultancy.demo.timesheets import create_time_entries, log_work, save_charges_and_tickets
from consultancy.demo.workload import create_ticket_events, draft_tickets
from contracts.models import ServiceContract
from offers.models import OfferStatus
from tickets.models import OPEN_STATUSES, Ticket

__all__ = [
    "DEMO_USERS",
    "NAME_FIRST",
    "NAME_SECOND",
    "PEOPLE_FIRST",
    "PEOPLE_LAST",
    "PLANS",
    "SeedReport",
    "seed_demo",
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
    invoices: int = 0
    campaign_runs: int = 0
    offers: int = 0
    offers_accepted: int = 0
    offers_declined: int = 0
    offers_expired: int = 0
    offers_open: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)


def seed_demo(*, clients: int = 200, tickets: int = 5000, seed: int = 2026) -> SeedReport:
    """Create the demo practice unless clients already exist; return what was created."""
    with transaction.atomic():
        reference = ensure_reference_data()
    users = [(u, p, g) for u, p, _f, _l, g in DEMO_USERS]
    if Client.objects.exists():
        return SeedReport(
            created=False,
            clients=Client.objects.count(),
            tickets=Ticket.objects.count(),
            users=users,
        )
    with transaction.atomic():
        report = _build_practice(random.Random(seed), reference, clients, tickets, seed=seed)
    report.invoices = bill_history()
    report.users = users
    return report


def bill_history(today: dt.date | None = None) -> int:
    """Bill and invoice every month of the demo's past except the last one; return the invoices.

    Through the real run and issue, as the monthly schedule would have done; last month is left
    for the manager to bill (the README's walk-through), this month has not ended.
    """
    last = Period.last_closed(today)
    first_start = ServiceContract.objects.order_by("starts_on").values_list("starts_on", flat=True)
    start = first_start.first()
    if start is None:
        return 0
    invoices = 0
    for period in months_between(Period.of(start), last.previous):
        # As the schedule would have: at 06:00 on the 1st, and issued straight after.
        on_the_first = period.ends_at() + dt.timedelta(hours=6)
        billing_run(period=period, trigger=RunTrigger.COMMAND, now=on_the_first)
        invoices += invoices_issue(period=period, now=on_the_first)
    return invoices


def _build_practice(
    rng: random.Random, reference: ReferenceData, n_clients: int, n_tickets: int, *, seed: int = 0
) -> SeedReport:
    """Write the clients, their contracts, the tickets, time and charges since the year the
    first past campaign replayed, and the campaigns' offers; count them."""
    # One "now" for the whole run, so every step agrees on what is past and what is open.
    now = timezone.now()
    today = timezone.localdate()
    terms = read_service_terms(reference)
    runs = past_run_moments(now)

    clients = create_clients(rng, n_clients, now=now, today=today)
    primary_contact = create_contacts(rng, clients)
    contracts = create_contracts(rng, clients, reference.plans, today=today)
    converts = choose_converts(rng, contracts, reference.plans, runs=runs)
    # Its own generator: the steps after draw from `rng` what they drew before this one existed.
    contract_of = age_contracts(
        random.Random(f"{seed}-lifecycle"),
        contracts,
        reference.plans,
        today=today,
        converts=[c.contract for c in converts],
    )
    history = history_span(now)
    consultants = staff_consultants(
        reference.consultants, tickets_a_year=n_tickets * 365 / max(history.days, 1)
    )
    drafts = draft_tickets(
        rng,
        n_tickets,
        clients=clients,
        contract_of=contract_of,
        primary_contact=primary_contact,
        consultants=consultants,
        terms=terms,
        now=now,
        history=history,
    )
    spread_work(drafts, consultants)
    logs = log_work(drafts, contract_of)
    charges, tickets = save_charges_and_tickets(drafts, logs)
    entries = create_time_entries(logs, consultants)
    create_ticket_events(tickets)
    campaigns = create_campaign_history(
        rng,
        runs=runs,
        converts=converts,
        tickets=tickets,
        charges=charges,
        primary_contact=primary_contact,
        now=now,
    )
    create_client_history(clients, contracts, now=now, from_offer=campaigns.from_offer)

    return SeedReport(
        created=True,
        clients=len(clients),
        contracts=sum(1 for t in contract_of.all() if t.ended_at is None),
        tickets=len(tickets),
        open_tickets=sum(1 for t in tickets if t.status in OPEN_STATUSES),
        time_entries=len(entries),
        charges=len(charges),
        campaign_runs=len(campaigns.runs),
        offers=len(campaigns.offers),
        offers_accepted=campaigns.count(OfferStatus.ACCEPTED),
        offers_declined=campaigns.count(OfferStatus.DECLINED),
        offers_expired=campaigns.count(OfferStatus.EXPIRED),
        offers_open=campaigns.count(OfferStatus.SENT) + campaigns.count(OfferStatus.PENDING),
    )
