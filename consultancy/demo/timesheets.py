"""The demo's time sheets: each ticket's work, covered by its contract's monthly hours first, then billed.

The split follows the services' rule (billing.services.work_allowance): a contract's included
hours per month in the practice's time zone, prorated in a part month; beyond them is overage,
which the monthly billing run charges. Break-fix work is labour at the rate card's hourly rate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils import timezone

from billing.models import RateCard
from billing.pricing import split_minutes
from billing.services import work_allowance
from clients.models import Charge, ChargeKind
from clients.money import as_hours, for_minutes
from consultancy.demo.bulk import bulk_insert
from consultancy.demo.lifecycle import ClientTerms
from consultancy.demo.workload import TicketDraft
from contracts.models import ServiceContract
from tickets.models import Ticket, TimeEntry


@dataclass(frozen=True)
class WorkLog:
    """One ticket's work, split into the minutes its contract covers and the minutes billed."""

    ticket: Ticket
    work_date: dt.date
    contract: ServiceContract | None  # the term in force on the work date, as time_log finds it
    covered_minutes: int
    billable_minutes: int
    charge: Charge | None  # the labour charge of break-fix work; overage waits for the run


def log_work(drafts: list[TicketDraft], contract_of: ClientTerms | None = None) -> list[WorkLog]:
    """Split each worked ticket's minutes into covered and billed, in the order the tickets came in.

    The contract is the client's term in force on the work date (`contract_of`: each client's
    terms), not the ticket's: a ticket opened the day before a contract began and worked on the
    day it began is contract work, as time_log would have it.
    """
    contract_of = contract_of or ClientTerms(())
    # Oldest first: a month's included hours go to the month's earliest tickets.
    used: dict[tuple[int, int, int], int] = defaultdict(int)
    hourly_rate = RateCard.load().hourly_rate
    logs = []
    for draft in sorted(drafts, key=lambda d: d.ticket.opened_at):
        ticket, minutes = draft.ticket, draft.work_minutes
        if not minutes:
            continue
        work_date = timezone.localdate(ticket.first_response_at or ticket.opened_at)
        contract = (
            contract_of.on(ticket.client_id, work_date)
            if ticket.client_id in contract_of
            else ticket.contract
        )
        if contract is not None and not contract.covers(work_date):
            contract = None
        covered = 0
        if contract is not None:
            month = (contract.pk, work_date.year, work_date.month)
            covered, _ = split_minutes(
                minutes, allowance=work_allowance(contract, work_date=work_date), used=used[month]
            )
            used[month] += covered
        billable = minutes - covered
        labour = contract is None and billable
        logs.append(
            WorkLog(
                ticket=ticket,
                work_date=work_date,
                contract=contract,
                covered_minutes=covered,
                billable_minutes=billable,
                charge=_labour_charge(ticket, billable, work_date, hourly_rate) if labour else None,
            )
        )
    return logs


def _labour_charge(ticket: Ticket, minutes: int, work_date: dt.date, rate: Decimal) -> Charge:
    """Bill `minutes` of break-fix work at the hourly rate, as time_log does."""
    return Charge(
        client=ticket.client,
        kind=ChargeKind.LABOUR,
        amount=for_minutes(rate, minutes),
        rate=rate,
        hours=as_hours(minutes),
        description=f"Labour, {minutes} min: ticket {ticket.subject}"[:300],
        occurred_at=timezone.make_aware(dt.datetime.combine(work_date, dt.time.min)),
    )


def save_charges_and_tickets(
    drafts: list[TicketDraft], logs: list[WorkLog]
) -> tuple[list[Charge], list[Ticket]]:
    """Save the surcharges and labour charges, then the tickets that point at their surcharge."""
    surcharges = [d.priority_charge for d in drafts if d.priority_charge is not None]
    labour = [log.charge for log in logs if log.charge is not None]
    charges = bulk_insert(Charge, surcharges + labour)
    for draft in drafts:
        if draft.priority_charge is not None:
            draft.ticket.priority_charge = draft.priority_charge
    return charges, bulk_insert(Ticket, [d.ticket for d in drafts])


def create_time_entries(logs: list[WorkLog], consultants: list[User]) -> list[TimeEntry]:
    """Write a time entry for each saved ticket's work, linked to the charge that billed it."""
    entries = []
    for log in logs:
        ticket = log.ticket
        worked_at = ticket.first_response_at or ticket.opened_at
        entries.append(
            TimeEntry(
                ticket=ticket,
                consultant=ticket.assignee or consultants[0],
                contract=log.contract,
                work_date=log.work_date,
                minutes=log.covered_minutes + log.billable_minutes,
                covered_minutes=log.covered_minutes,
                billable_minutes=log.billable_minutes,
                charge=log.charge,
                note="Remote session",
                created_at=worked_at,
            )
        )
    return bulk_insert(TimeEntry, entries)
