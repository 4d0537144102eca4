"""A year of demo tickets: who called and when, how urgent, how far each got, its place in the queue.

Contract tickets get their deadlines from the same SLA engine (`contracts.sla`) the ticket
services use, so the demo's queue orders exactly as a live one would.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from itertools import accumulate

from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Charge, ChargeKind, Client, ClientStatus, Contact
from consultancy.demo.bulk import bulk_insert
from consultancy.demo.reference import ServiceTerms
from consultancy.demo.samples import DEVICES, PEOPLE_FIRST, PRIORITY_WEIGHTS, SUBJECTS
from contracts.models import ServiceContract
from contracts.sla import add_covered_minutes, add_covered_time, risk_point
from tickets.models import QueueTier, Ticket, TicketEvent, TicketEventKind, TicketStatus

PRIORITIES = list(PRIORITY_WEIGHTS)
PRIORITY_SHARES = list(PRIORITY_WEIGHTS.values())
WORK_MINUTES = (15, 30, 45, 60, 90, 120, 180)


@dataclass(frozen=True)
class TicketDraft:
    """A ticket not yet saved, with the minutes of work it took and any paid-priority surcharge."""

    ticket: Ticket
    work_minutes: int  # 0 while the ticket is still new
    priority_charge: Charge | None


def draft_tickets(
    rng: random.Random,
    count: int,
    *,
    clients: list[Client],
    contract_of: dict[int, ServiceContract],
    primary_contact: dict[int, Contact],
    consultants: list[User],
    terms: ServiceTerms,
    now: dt.datetime,
) -> list[TicketDraft]:
    """Draft `count` tickets from the past year, with their SLA deadlines and queue keys set."""
    cumulative = _caller_weights(rng, clients, contract_of)
    drafts = []
    for _ in range(count):
        client = rng.choices(clients, cum_weights=cumulative)[0]
        drafts.append(
            _draft_ticket(
                rng,
                client,
                contract=contract_of.get(client.pk),
                contact=primary_contact.get(client.pk),
                consultants=consultants,
                terms=terms,
                now=now,
            )
        )
    return drafts


def _caller_weights(
    rng: random.Random, clients: list[Client], contract_of: dict[int, ServiceContract]
) -> list[float]:
    """How likely each client is to call, as cumulative weights for `rng.choices`."""
    # Contract clients call more often; dropped clients stopped calling.
    weights = [
        0.0
        if c.status == ClientStatus.DROPPED
        else (3.0 if c.pk in contract_of else 1.0) * rng.uniform(0.3, 1.7)
        for c in clients
    ]
    return list(accumulate(weights))  # choices() would re-add 10,000 weights per ticket


def _draft_ticket(
    rng: random.Random,
    client: Client,
    *,
    contract: ServiceContract | None,
    contact: Contact | None,
    consultants: list[User],
    terms: ServiceTerms,
    now: dt.datetime,
) -> TicketDraft:
    """One ticket from `client`: when it came in, what about, and where it stands now."""
    # Recent days are busier in the sample so that today's queue has work in it.
    age = dt.timedelta(
        minutes=rng.randint(5, 365 * 24 * 60)
        if rng.random() < 0.94
        else rng.randint(5, 14 * 24 * 60)
    )
    opened_at = now - age
    priority = rng.choices(PRIORITIES, weights=PRIORITY_SHARES)[0]
    if contract is not None and not contract.covers(timezone.localtime(opened_at).date()):
        contract = None  # the ticket came in outside the contract's term
    status = _status_for_age(rng, age, on_contract=contract is not None)
    ticket = Ticket(
        client=client,
        contact=contact,
        subject=rng.choice(SUBJECTS).format(
            device=rng.choice(DEVICES), person=rng.choice(PEOPLE_FIRST)
        ),
        description="Reported by phone. The user says it started this morning and nothing was changed.",
        priority=priority,
        status=status,
        opened_at=opened_at,
        assignee=None if status == TicketStatus.NEW else rng.choice(consultants),
    )
    priority_charge = _place_in_queue(rng, ticket, contract, terms)
    _record_progress(rng, ticket, now)
    minutes = rng.choice(WORK_MINUTES) if status != TicketStatus.NEW else 0
    return TicketDraft(ticket=ticket, work_minutes=minutes, priority_charge=priority_charge)


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


def _place_in_queue(
    rng: random.Random, ticket: Ticket, contract: ServiceContract | None, terms: ServiceTerms
) -> Charge | None:
    """Put the ticket in its tier: contract (with deadlines), paid priority or standard.

    Return the paid-priority surcharge when the client paid for one.
    """
    if contract is not None:
        # The contract step assigned the plan objects, so this reads no row.
        plan = contract.plan
        level = terms.level(plan, ticket.priority)
        hours = terms.working_hours(plan)
        opened_at = ticket.opened_at
        ticket.contract = contract
        ticket.queue_tier = QueueTier.CONTRACT
        ticket.response_due_at = add_covered_minutes(opened_at, level.response_minutes, hours)
        ticket.resolution_due_at = add_covered_minutes(opened_at, level.resolution_minutes, hours)
        ticket.response_risk_at = add_covered_time(
            opened_at, risk_point(level.response_minutes), hours
        )
        ticket.resolution_risk_at = add_covered_time(
            opened_at, risk_point(level.resolution_minutes), hours
        )
        return None
    if rng.random() < 0.12:
        ticket.paid_priority = True
        ticket.queue_tier = QueueTier.PAID_PRIORITY
        surcharge = terms.rates.paid_priority_surcharge
        return Charge(
            client=ticket.client,
            kind=ChargeKind.PAID_PRIORITY,
            amount=surcharge,
            rate=surcharge,
            description="Paid priority service",
            occurred_at=ticket.opened_at,
        )
    ticket.queue_tier = QueueTier.STANDARD
    return None


def _record_progress(rng: random.Random, ticket: Ticket, now: dt.datetime) -> None:
    """Set when the ticket was first answered, resolved, closed or paused, as its status says."""
    status, opened_at = ticket.status, ticket.opened_at
    if status != TicketStatus.NEW:
        ticket.first_response_at = min(opened_at + dt.timedelta(minutes=rng.randint(10, 600)), now)
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        ticket.resolved_at = min(
            opened_at + dt.timedelta(minutes=rng.randint(60, 4 * 24 * 60)), now
        )
    if status == TicketStatus.CLOSED:
        resolved_at = ticket.resolved_at or now
        ticket.closed_at = min(resolved_at + dt.timedelta(days=rng.randint(1, 5)), now)
    if status == TicketStatus.WAITING_ON_CLIENT:
        ticket.sla_paused_at = ticket.first_response_at
    if ticket.contract is not None:
        # As the ticket services keep it: a contract ticket waits in the queue by its response
        # deadline until the first reply, then by its resolution deadline.
        ticket.queue_due_at = (
            ticket.response_due_at if ticket.first_response_at is None else ticket.resolution_due_at
        )


def create_ticket_events(tickets: list[Ticket]) -> list[TicketEvent]:
    """Write each saved ticket's activity: opened, the first reply, and resolved."""
    events = []
    for ticket in tickets:
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
    return bulk_insert(TicketEvent, events)
