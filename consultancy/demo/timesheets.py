"""The demo's time sheets: each ticket's work, covered by its contract's monthly hours first, then billed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Charge, ChargeKind
from clients.money import as_hours, for_minutes
from consultancy.demo.bulk import bulk_insert
from consultancy.demo.workload import TicketDraft
from tickets.models import Ticket, TimeEntry


@dataclass(frozen=True)
class WorkLog:
    """One ticket's work, split into the minutes its contract covers and the minutes billed."""

    ticket: Ticket
    covered_minutes: int
    billable_minutes: int
    charge: Charge | None  # what the billable minutes cost; None when the contract covered all


def log_work(drafts: list[TicketDraft]) -> list[WorkLog]:
    """Split each worked ticket's minutes into covered and billed, in the order the tickets came in."""
    # Oldest first: a month's included hours go to the month's earliest tickets.
    used: dict[tuple[int, int, int], int] = defaultdict(int)
    logs = []
    for draft in sorted(drafts, key=lambda d: d.ticket.opened_at):
        ticket, minutes = draft.ticket, draft.work_minutes
        if not minutes:
            continue
        covered = 0
        if ticket.contract is not None:
            plan = ticket.contract.plan
            month = (ticket.contract.pk, ticket.opened_at.year, ticket.opened_at.month)
            allowance = int(plan.included_hours * 60) - used[month]
            covered = max(0, min(minutes, allowance))
            used[month] += covered
        billable = minutes - covered
        logs.append(
            WorkLog(
                ticket=ticket,
                covered_minutes=covered,
                billable_minutes=billable,
                charge=_labour_charge(ticket, billable) if billable else None,
            )
        )
    return logs


def _labour_charge(ticket: Ticket, minutes: int) -> Charge:
    """Bill `minutes` of work: at the plan's overage rate under a contract, else the hourly rate."""
    contract = ticket.contract
    rate = contract.plan.overage_hourly_rate if contract is not None else settings.HOURLY_RATE
    return Charge(
        client=ticket.client,
        kind=ChargeKind.OVERAGE if contract is not None else ChargeKind.LABOUR,
        amount=for_minutes(rate, minutes),
        hours=as_hours(minutes),
        description=f"{minutes} min: {ticket.subject}"[:300],
        occurred_at=ticket.first_response_at or ticket.opened_at,
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
                contract=ticket.contract if log.covered_minutes else None,
                work_date=timezone.localtime(worked_at).date(),
                minutes=log.covered_minutes + log.billable_minutes,
                covered_minutes=log.covered_minutes,
                billable_minutes=log.billable_minutes,
                charge=log.charge,
                note="Remote session",
                created_at=worked_at,
            )
        )
    return bulk_insert(TimeEntry, entries)
