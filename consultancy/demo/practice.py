"""The demo's clients: their names and contacts, the contracts some hold, and the history those open."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from clients.models import Client, ClientEvent, ClientEventKind, ClientStatus, Contact
from clients.money import discounted
from clients.services import dropped_summary
from consultancy.demo.bulk import bulk_insert
from consultancy.demo.samples import (
    NAME_FIRST,
    NAME_SECOND,
    NAME_SUFFIX,
    PEOPLE_FIRST,
    PEOPLE_LAST,
)
from contracts import history as contract_history
from contracts.models import ContractPlan, ContractStatus, ServiceContract
from contracts.services import term_end


def create_clients(
    rng: random.Random, count: int, *, now: dt.datetime, today: dt.date
) -> list[Client]:
    """Create `count` clients with distinct names; a few dropped, a few opted out of offers."""
    rows = []
    seen: set[str] = set()
    for i in range(count):
        name = (
            f"{rng.choice(NAME_FIRST)} {rng.choice(NAME_SECOND)} {rng.choice(NAME_SUFFIX)}".strip()
        )
        if name in seen:
            name = f"{name} ({i + 1})"
        seen.add(name)
        dropped = rng.random() < 0.04
        rows.append(
            Client(
                name=name,
                customer_since=today - dt.timedelta(days=rng.randint(60, 9 * 365)),
                offers_opt_out=rng.random() < 0.05,
                status=ClientStatus.DROPPED if dropped else ClientStatus.ACTIVE,
                dropped_at=now - dt.timedelta(days=rng.randint(5, 200)) if dropped else None,
                drop_reason="Never converted; one-off work only." if dropped else "",
            )
        )
    return bulk_insert(Client, rows)


def create_contacts(rng: random.Random, clients: list[Client]) -> dict[int, Contact]:
    """Create one to three contacts per client; return each client's primary contact by client id."""
    rows = []
    for client in clients:
        for k in range(rng.choice((1, 1, 2, 3))):
            first, last = rng.choice(PEOPLE_FIRST), rng.choice(PEOPLE_LAST)
            domain = "".join(ch for ch in client.name.lower() if ch.isalnum())[:20] or "client"
            rows.append(
                Contact(
                    client=client,
                    name=f"{first} {last}",
                    email=f"{first.lower()}.{last.lower()}{k or ''}@{domain}.example",
                    phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    is_primary=k == 0,
                )
            )
    return {c.client_id: c for c in bulk_insert(Contact, rows) if c.is_primary}


def create_contracts(
    rng: random.Random, clients: list[Client], plans: list[ContractPlan], *, today: dt.date
) -> list[ServiceContract]:
    """Put about 40% of the active clients on a running contract, spread over the plans."""
    rows = []
    for client in clients:
        if client.status != ClientStatus.ACTIVE or rng.random() >= 0.42:
            continue
        plan = rng.choices(plans, weights=(45, 40, 15))[0]
        starts_on = today - dt.timedelta(days=rng.randint(20, 340))
        discount = Decimal(rng.choice(("0", "0", "5", "10")))
        rows.append(
            ServiceContract(
                client=client,
                plan=plan,
                status=ContractStatus.ACTIVE,
                starts_on=starts_on,
                ends_on=term_end(starts_on, plan.term_months),
                monthly_price=discounted(plan.monthly_price, discount),
                discount_percent=discount,
                # Signed on the morning its term starts, in the practice's time zone.
                created_at=timezone.make_aware(dt.datetime.combine(starts_on, dt.time(9, 30))),
            )
        )
    return bulk_insert(ServiceContract, rows)


def create_client_history(
    clients: list[Client],
    contracts: list[ServiceContract],
    *,
    now: dt.datetime,
    from_offer: set[int] | frozenset[int] = frozenset(),
) -> list[ClientEvent]:
    """Open each client's history as the services would have: contract started (from an
    accepted offer for the contracts in `from_offer`), or dropped."""
    started = [
        ClientEvent(
            client_id=c.client_id,
            kind=ClientEventKind.CONTRACT_STARTED,
            summary=contract_history.contract_started(c, from_offer=c.pk in from_offer),
            at=c.created_at,
        )
        for c in contracts
    ]
    dropped = [
        ClientEvent(
            client=c,
            kind=ClientEventKind.DROPPED,
            summary=dropped_summary(c.drop_reason),
            at=c.dropped_at or now,
        )
        for c in clients
        if c.status == ClientStatus.DROPPED
    ]
    return bulk_insert(ClientEvent, started + dropped)
