"""The demo's tickets: who called and when, how urgent, how far each got, its place in the queue.

Contract tickets get their deadlines from the same SLA engine (`contracts.sla`) the ticket
services use, so the demo's queue orders exactly as a live one would.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Charge, ChargeKind, Client, ClientStatus, Contact
from consultancy.demo.bulk import bulk_insert
from consultancy.demo.lifecycle import ClientTerms
from consultancy.demo.reference import ServiceTerms
from consultancy.demo.samples import DEVICES, PEOPLE_FIRST, PRIORITY_WEIGHTS, SUBJECTS
from contracts.models import Priority, ServiceContract
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


@dataclass(frozen=True)
class SpendProfile:
    """How a client calls: how often (a weight among all clients), whether its work comes in
    bursts, and how often it pays to jump the break-fix queue."""

    weight: float
    priority_share: float = 0.12  # of its break-fix tickets, bought paid priority
    bursts: tuple[dt.timedelta, ...] = ()  # ages at which each of its busy months ended


class SpendLevel(NamedTuple):
    share: int  # of break-fix clients, in %
    weight: float  # how often they call, against a contract client's 3
    bursty: float  # the share of them whose work comes in busy months
    priority_buyers: float  # the share of them who buy paid priority on many tickets


# Break-fix clients span light to heavy, so that a campaign finds some whose year a contract
# would have cost less (heavy: three or four tickets a month, 30 to 90 hours a year, where the
# cheapest plan's discounted fee is 25 hours of labour at the rate card's rate a year), some
# who paid for speed or waited too long (the light priority buyers), and some a contract does
# not fit at all. Tuned so that the default demo's campaign offers savings to about a third of
# its candidates and value to a quarter or so.
SPEND_LEVELS = {
    "light": SpendLevel(share=40, weight=0.45, bursty=0.0, priority_buyers=0.25),
    "medium": SpendLevel(share=25, weight=1.5, bursty=0.35, priority_buyers=0.0),
    "heavy": SpendLevel(share=35, weight=8.0, bursty=0.35, priority_buyers=0.0),
}
PRIORITY_SHARE = 0.015  # of a break-fix client's tickets, bought paid priority
PRIORITY_BUYER_SHARE = 0.4  # of a priority buyer's tickets
BURSTY_SHARE = 0.6  # of a bursty client's tickets, in one of its busy months
LONG_WAIT_SHARE = 0.02  # of standard break-fix tickets, answered only after the long wait
MONTH = dt.timedelta(days=30)
# The share of tickets drawn over the whole history; the rest came in the last fortnight, so
# today's queue has work in it (a busy fortnight, not four times the usual load).
RECENT_SHARE = 0.985
# How often a contract ticket's (first response, resolution) is in time, by priority: a practice
# that keeps most promises, the urgent ones slipping most.
KEPT: dict[str, tuple[float, float]] = {
    Priority.URGENT: (0.86, 0.84),
    Priority.HIGH: (0.91, 0.89),
    Priority.NORMAL: (0.95, 0.94),
    Priority.LOW: (0.97, 0.96),
}


def spend_profiles(
    rng: random.Random,
    clients: list[Client],
    contract_of: ClientTerms,
    *,
    history: dt.timedelta,
) -> list[SpendProfile]:
    """Each client's spend profile, in the order of `clients`."""
    profiles = []
    for client in clients:
        if client.status == ClientStatus.DROPPED:
            profiles.append(SpendProfile(weight=0.0))  # dropped clients stopped calling
        elif client.pk in contract_of:
            # Contract clients call more often (before their contract, as break-fix clients).
            profiles.append(SpendProfile(weight=3.0 * rng.uniform(0.3, 1.7)))
        else:
            profiles.append(_break_fix_profile(rng, history))
    return profiles


def _break_fix_profile(rng: random.Random, history: dt.timedelta) -> SpendProfile:
    level = rng.choices(
        list(SPEND_LEVELS.values()), weights=[v.share for v in SPEND_LEVELS.values()]
    )[0]
    # Some light clients are rarely in trouble but pay to be first in line when they are.
    buyer = rng.random() < level.priority_buyers
    bursts: tuple[dt.timedelta, ...] = ()
    if rng.random() < level.bursty:
        bursts = tuple(
            dt.timedelta(days=rng.randint(0, history.days - MONTH.days))
            for _ in range(rng.randint(2, 3))
        )
    return SpendProfile(
        weight=level.weight * rng.uniform(0.6, 1.4),
        priority_share=PRIORITY_BUYER_SHARE if buyer else PRIORITY_SHARE,
        bursts=bursts,
    )


def draft_tickets(
    rng: random.Random,
    count: int,
    *,
    clients: list[Client],
    contract_of: ClientTerms,
    primary_contact: dict[int, Contact],
    consultants: list[User],
    terms: ServiceTerms,
    now: dt.datetime,
    history: dt.timedelta = dt.timedelta(days=365),
) -> list[TicketDraft]:
    """Draft `count` tickets from the last `history`, with their SLA deadlines and queue keys set."""
    profiles = spend_profiles(rng, clients, contract_of, history=history)
    # choices() would re-add 10,000 weights per ticket
    cumulative = list(accumulate(p.weight for p in profiles))
    drafts = []
    for _ in range(count):
        i = rng.choices(range(len(clients)), cum_weights=cumulative)[0]
        client = clients[i]
        drafts.append(
            _draft_ticket(
                rng,
                client,
                profile=profiles[i],
                terms_of=contract_of,
                contact=primary_contact.get(client.pk),
                consultants=consultants,
                terms=terms,
                now=now,
                history=history,
            )
        )
    return drafts


def _ticket_age(rng: random.Random, profile: SpendProfile, history: dt.timedelta) -> dt.timedelta:
    if profile.bursts and rng.random() < BURSTY_SHARE:
        ended = rng.choice(profile.bursts)
        return ended + dt.timedelta(minutes=rng.randint(5, MONTH.days * 24 * 60))
    # Recent days are busier in the sample so that today's queue has work in it.
    return dt.timedelta(
        minutes=rng.randint(5, int(history.total_seconds() // 60))
        if rng.random() < RECENT_SHARE
        else rng.randint(5, 14 * 24 * 60)
    )


def _draft_ticket(
    rng: random.Random,
    client: Client,
    *,
    profile: SpendProfile,
    terms_of: ClientTerms,
    contact: Contact | None,
    consultants: list[User],
    terms: ServiceTerms,
    now: dt.datetime,
    history: dt.timedelta,
) -> TicketDraft:
    """One ticket from `client`: when it came in, what about, and where it stands now."""
    age = _ticket_age(rng, profile, history)
    opened_at = now - age
    priority = rng.choices(PRIORITIES, weights=PRIORITY_SHARES)[0]
    # The term in force the day it came in (none: a break-fix ticket).
    contract = terms_of.on(client.pk, timezone.localdate(opened_at))
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
    priority_charge = _place_in_queue(rng, ticket, contract, terms, profile.priority_share)
    # At the back of the break-fix line, some tickets wait past the campaign's long wait.
    waited = ticket.queue_tier == QueueTier.STANDARD and rng.random() < LONG_WAIT_SHARE
    if (
        not waited
        and ticket.status == TicketStatus.NEW
        and ticket.long_wait_at is not None
        and ticket.long_wait_at <= now
    ):
        # The others were answered before their long wait, even if not yet worked on.
        ticket.status = TicketStatus.IN_PROGRESS
        ticket.assignee = rng.choice(consultants)
    if contract is not None:
        _keep_promises(rng, ticket, terms, now=now, consultants=consultants)
    _record_progress(rng, ticket, now, waited=waited)
    minutes = rng.choice(WORK_MINUTES) if ticket.status != TicketStatus.NEW else 0
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
    rng: random.Random,
    ticket: Ticket,
    contract: ServiceContract | None,
    terms: ServiceTerms,
    priority_share: float,
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
    # As ticket_open does for a ticket no contract covers: when it will have waited long.
    ticket.long_wait_at = terms.long_wait_moment(ticket.opened_at)
    if rng.random() < priority_share:
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


def _keep_promises(
    rng: random.Random,
    ticket: Ticket,
    terms: ServiceTerms,
    *,
    now: dt.datetime,
    consultants: list[User],
) -> None:
    """Answer and resolve a contract ticket in time, as a practice that keeps most of its
    promises does: the more urgent, the more often a target slips (KEPT), and a slipped one is
    late by a fraction of its target. Open tickets past a deadline they keep were dealt with in
    time; the rest stay overdue in the queue."""
    assert ticket.contract is not None
    assert ticket.response_due_at is not None
    assert ticket.resolution_due_at is not None
    level = terms.level(ticket.contract.plan, ticket.priority)
    hours = terms.working_hours(ticket.contract.plan)
    opened_at = ticket.opened_at
    keep_response, keep_resolution = (rng.random() < kept for kept in KEPT[ticket.priority])
    if ticket.status == TicketStatus.NEW and keep_response and ticket.response_due_at <= now:
        ticket.status, ticket.assignee = TicketStatus.IN_PROGRESS, rng.choice(consultants)
    if (
        ticket.status == TicketStatus.IN_PROGRESS
        and keep_resolution
        and ticket.resolution_due_at <= now
    ):
        young = now - opened_at < dt.timedelta(days=5)
        ticket.status = TicketStatus.RESOLVED if young else TicketStatus.CLOSED
    if ticket.status == TicketStatus.NEW:
        return
    if keep_response:
        minutes = max(1, round(level.response_minutes * rng.uniform(0.1, 0.85)))
        answered_at = add_covered_minutes(opened_at, minutes, hours)
    else:
        late = rng.randint(5, max(10, level.response_minutes // 2))
        answered_at = ticket.response_due_at + dt.timedelta(minutes=late)
    ticket.first_response_at = min(answered_at, now)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return
    if keep_resolution:
        minutes = round(level.resolution_minutes * rng.uniform(0.35, 0.95))
        resolved_at = add_covered_minutes(opened_at, minutes, hours)
    else:
        late = rng.randint(30, max(60, level.resolution_minutes))
        resolved_at = ticket.resolution_due_at + dt.timedelta(minutes=late)
    after_reply = ticket.first_response_at + dt.timedelta(minutes=10)
    ticket.resolved_at = min(max(resolved_at, after_reply), now)


def _record_progress(
    rng: random.Random, ticket: Ticket, now: dt.datetime, *, waited: bool = False
) -> None:
    """Set when the ticket was first answered, resolved, closed or paused, as its status says.

    A ticket that `waited` is answered (and resolved) only after its long-wait moment.
    """
    status, opened_at = ticket.status, ticket.opened_at
    answered_from = (ticket.long_wait_at or opened_at) if waited else opened_at
    # A contract ticket's answer and resolution were set by _keep_promises.
    if status != TicketStatus.NEW and ticket.contract is None:
        ticket.first_response_at = min(
            answered_from + dt.timedelta(minutes=rng.randint(10, 600)), now
        )
    if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and ticket.contract is None:
        resolved_from = ticket.first_response_at if waited else opened_at
        ticket.resolved_at = min(
            (resolved_from or opened_at) + dt.timedelta(minutes=rng.randint(60, 4 * 24 * 60)), now
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
