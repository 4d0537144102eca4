"""Every write to tickets: open, claim, assign, status, reply, note, time, paid priority, requeue.

Each service is one transaction that also writes the ticket's activity row and the outbox row of
any email it causes (clients/outbox.py); the email leaves after commit.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from billing.periods import Period
from billing.services import priority_charge, work_charge, work_contract, work_split
from clients.models import Client, Contact, EmailKind
from clients.money import money
from clients.outbox import outbox_add
from clients.people import staff_name
from contracts.models import ContractPlan, Priority, ServiceContract, ServiceLevel
from contracts.sla import resume_deadline
from offers.campaign import long_wait_moment
from tickets import emails
from tickets.models import (
    MAX_MINUTES_PER_ENTRY,
    QueueTier,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    TimeEntry,
)

# Which status a ticket may move to from each status.
TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CLIENT, TicketStatus.RESOLVED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING_ON_CLIENT, TicketStatus.RESOLVED}),
    TicketStatus.WAITING_ON_CLIENT: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.CLOSED, TicketStatus.IN_PROGRESS}),
    TicketStatus.CLOSED: frozenset(),
}


class TicketError(Exception):
    """A ticket change the rules do not allow; the message is for the user."""


EVENT_VALUE_LENGTH = TicketEvent._meta.get_field("to_value").max_length or 64


def _event(ticket: Ticket, kind: str, actor: User | None, **fields: str) -> TicketEvent:
    # from/to values are short labels (a status, a name); a long name is cut, never an error.
    for name in ("from_value", "to_value"):
        if name in fields:
            fields[name] = fields[name][:EVENT_VALUE_LENGTH]
    return TicketEvent.objects.create(ticket=ticket, kind=kind, actor=actor, **fields)


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock: every change starts from the committed state."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("client", "contract__plan")
        .get(pk=ticket.pk)
    )


def _require_open(ticket: Ticket) -> None:
    if not ticket.is_open:
        raise TicketError(
            f"Ticket #{ticket.pk} is {ticket.get_status_display().lower()}; reopen it first."
        )


def _apply_contract(ticket: Ticket, contract: ServiceContract | None, start: dt.datetime) -> None:
    """Set the queue keys: contract tier with deadlines from `start`, or the transactional tiers."""
    if contract is None:
        ticket.contract = None
        ticket.queue_tier = QueueTier.PAID_PRIORITY if ticket.paid_priority else QueueTier.STANDARD
        ticket.response_due_at = ticket.resolution_due_at = None
        ticket.response_risk_at = ticket.resolution_risk_at = None
        ticket.queue_due_at = None
        return
    plan: ContractPlan = contract.plan
    try:
        deadlines = plan.deadlines(ticket.priority, start)
    except ServiceLevel.DoesNotExist:
        raise TicketError(
            f"The {plan} plan has no response targets; a manager must add them in the admin."
        ) from None
    ticket.contract = contract
    ticket.queue_tier = QueueTier.CONTRACT
    ticket.response_due_at = deadlines.response_due_at
    ticket.resolution_due_at = deadlines.resolution_due_at
    ticket.response_risk_at = deadlines.response_risk_at
    ticket.resolution_risk_at = deadlines.resolution_risk_at
    _set_queue_due(ticket)


def _set_queue_due(ticket: Ticket) -> None:
    before = ticket.queue_due_at
    if ticket.contract_id is None:
        ticket.queue_due_at = None
    else:
        ticket.queue_due_at = (
            ticket.response_due_at if ticket.first_response_at is None else ticket.resolution_due_at
        )
    if ticket.queue_due_at != before:
        # A new deadline (the resolution one after the first reply, or one moved by a pause)
        # deserves its own at-risk alert.
        ticket.sla_risk_notified_at = None


QUEUE_KEY_FIELDS = [
    "contract",
    "queue_tier",
    "response_due_at",
    "resolution_due_at",
    "response_risk_at",
    "resolution_risk_at",
    "queue_due_at",
    "sla_paused_at",
    "sla_risk_notified_at",
    "updated_at",
]


def drop_override_note(client: Client) -> str:
    """The ticket history's line for a ticket opened for a dropped client."""
    # A dropped client always carries dropped_at (a check constraint holds it).
    dropped_on = (
        timezone.localdate(client.dropped_at) if client.dropped_at else timezone.localdate()
    )
    why = f" ({client.drop_reason})" if client.drop_reason else ""
    return f"Opened on a manager's override: {client} was dropped on {dropped_on:%Y-%m-%d}{why}."


def active_contract(client: Client) -> ServiceContract | None:
    return (
        ServiceContract.objects.active().for_client(client).select_related("plan__calendar").first()
    )


@transaction.atomic
def ticket_open(
    *,
    client: Client,
    subject: str,
    description: str = "",
    priority: str = Priority.NORMAL,
    contact: Contact | None = None,
    paid_priority: bool = False,
    opened_by: User | None = None,
    override_drop: bool = False,
    submission: uuid.UUID | None = None,
) -> Ticket:
    """Log a ticket; contract clients get their plan's deadlines, others a place in line.

    A dropped client gets no ticket unless a manager overrides the drop (`override_drop`: only
    views pass it, and only for a user who manages contracts); the ticket's history says so.
    A form sent again (`submission`, its hidden id) for that client gets its first ticket.
    """
    # The same lock contract_start takes: a ticket opened while the client's contract starts
    # either sees the contract or is re-queued by it, never neither. It also queues a second
    # send of the same form behind the first, which then finds the first one's ticket.
    client = Client.objects.select_for_update().get(pk=client.pk)
    if submission and (first := Ticket.objects.filter(submission=submission).first()):
        if first.client_id == client.pk:
            return first
        submission = None  # the form sent again for another client: a new ticket, without it
    if client.is_dropped and not override_drop:
        raise TicketError(f"{client} has been dropped; reinstate the client to open tickets.")
    if contact is not None and contact.client_id != client.pk:
        raise TicketError("That contact works for another client.")
    if contact is None:
        contact = client.contacts.primary().first()
    now = timezone.now()
    contract = active_contract(client)
    if paid_priority and contract is not None:
        raise TicketError(
            f"{client} is on a contract and is served first already; no surcharge applies."
        )
    ticket = Ticket(
        client=client,
        contact=contact,
        subject=subject.strip(),
        description=description.strip(),
        priority=priority,
        opened_at=now,
    )
    _apply_contract(ticket, contract, now)
    if contract is None:
        ticket.long_wait_at = long_wait_moment(now)
    ticket.submission = submission
    try:
        with transaction.atomic():
            ticket.save()
    except IntegrityError:  # the same form, sent for another client at the same instant
        raise TicketError(
            "This form was sent already; open the queue to find its ticket."
        ) from None
    _event(ticket, TicketEventKind.OPENED, opened_by, body=ticket.description)
    if client.is_dropped:
        _event(ticket, TicketEventKind.NOTE, opened_by, body=drop_override_note(client))
    if paid_priority:
        _buy_priority(ticket, opened_by)
    if contact is not None:
        outbox_add(
            emails.acknowledgement(ticket, contact),
            kind=EmailKind.TICKET_ACKNOWLEDGEMENT,
            key=f"ticket-acknowledgement:{ticket.pk}",
            client=client,
            now=now,
        )
    return ticket


def _buy_priority(ticket: Ticket, actor: User | None) -> None:
    charge = priority_charge(
        client_id=ticket.client_id,
        description=f"Paid priority for ticket #{ticket.pk}: {ticket.subject}",
        by=actor,
    )
    surcharge = charge.amount
    ticket.paid_priority = True
    ticket.priority_charge = charge
    ticket.queue_tier = QueueTier.PAID_PRIORITY
    ticket.save(update_fields=["paid_priority", "priority_charge", "queue_tier", "updated_at"])
    _event(
        ticket,
        TicketEventKind.PAID_PRIORITY,
        actor,
        body=f"Paid priority bought: {money(surcharge)} charged.",
    )


@transaction.atomic
def ticket_buy_priority(*, ticket: Ticket, actor: User) -> Ticket:
    """A transactional client pays the surcharge: its ticket moves ahead of other break-fix work."""
    ticket = _locked(ticket)
    _require_open(ticket)
    if ticket.is_contract_ticket:
        raise TicketError("Contract tickets are served first already; no surcharge applies.")
    if ticket.paid_priority:
        raise TicketError("Priority was already bought for this ticket.")
    _buy_priority(ticket, actor)
    return ticket


@transaction.atomic
def ticket_take_next(*, consultant: User) -> Ticket | None:
    """Claim the first unassigned ticket in queue order for `consultant`; None if the line is empty."""
    # SKIP LOCKED: a ticket another consultant is claiming right now is passed over, not waited
    # for, so two consultants pressing the button together get two different tickets.
    ticket = (
        Ticket.objects.actionable()
        .unassigned()
        .in_queue_order()
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if ticket is None:
        return None
    ticket.assignee = consultant
    fields = ["assignee", "updated_at"]
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.IN_PROGRESS
        fields.append("status")
    ticket.save(update_fields=fields)
    _event(
        ticket,
        TicketEventKind.ASSIGNMENT,
        consultant,
        body="Took the next ticket in line.",
        to_value=staff_name(consultant),
    )
    return ticket


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User) -> Ticket:
    ticket = _locked(ticket)
    _require_open(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    before = staff_name(ticket.assignee) if ticket.assignee else ""
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    _event(
        ticket,
        TicketEventKind.ASSIGNMENT,
        actor,
        from_value=before,
        to_value=staff_name(assignee) if assignee else "",
    )
    return ticket


def _pause(ticket: Ticket, now: dt.datetime) -> None:
    ticket.sla_paused_at = now


def _resume(ticket: Ticket, now: dt.datetime) -> None:
    """Restart the SLA clock with exactly the covered time that was left at the pause."""
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_at = None
    if paused_at is None or ticket.contract is None:
        return
    hours = ticket.contract.plan.working_hours()

    def shift(due_at: dt.datetime | None) -> dt.datetime | None:
        if due_at is None:
            return None
        return resume_deadline(due_at=due_at, paused_at=paused_at, resumed_at=now, hours=hours)

    ticket.response_due_at = shift(ticket.response_due_at)
    ticket.resolution_due_at = shift(ticket.resolution_due_at)
    ticket.response_risk_at = shift(ticket.response_risk_at)
    ticket.resolution_risk_at = shift(ticket.resolution_risk_at)
    _set_queue_due(ticket)


@transaction.atomic
def ticket_change_status(*, ticket: Ticket, status: str, actor: User, note: str = "") -> Ticket:
    """Move a ticket along its workflow; waiting on the client pauses the SLA clock."""
    ticket = _locked(ticket)
    before = ticket.status
    if status == before:
        return ticket
    if status not in TicketStatus.values:
        raise TicketError(f"{status!r} is not a ticket status.")
    if status not in TRANSITIONS.get(before, frozenset()):
        raise TicketError(
            f"A ticket that is {TicketStatus(before).label.lower()} cannot become "
            f"{TicketStatus(status).label.lower()}."
        )
    now = timezone.now()
    if status == TicketStatus.WAITING_ON_CLIENT:
        _pause(ticket, now)
    elif before == TicketStatus.WAITING_ON_CLIENT:
        _resume(ticket, now)
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif status == TicketStatus.CLOSED:
        ticket.closed_at = now
    elif before == TicketStatus.RESOLVED:  # reopened
        ticket.resolved_at = None
    ticket.status = status
    ticket.save(update_fields=["status", "resolved_at", "closed_at", *QUEUE_KEY_FIELDS])
    _event(
        ticket, TicketEventKind.STATUS, actor, from_value=before, to_value=status, body=note.strip()
    )
    return ticket


@transaction.atomic
def ticket_reply(
    *, ticket: Ticket, body: str, actor: User, wait_on_client: bool = False
) -> TicketEvent:
    """Reply to the client by email; the first reply is the ticket's first response."""
    ticket = _locked(ticket)
    _require_open(ticket)
    contact = ticket.contact
    if contact is None:
        raise TicketError("This ticket has no contact to reply to; add one to the client first.")
    now = timezone.now()
    fields = ["updated_at"]
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        _set_queue_due(ticket)
        fields += ["first_response_at", "queue_due_at", "sla_risk_notified_at"]
    event = _event(ticket, TicketEventKind.REPLY, actor, body=body.strip())
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.IN_PROGRESS
        fields.append("status")
    ticket.save(update_fields=fields)
    if wait_on_client and ticket.status != TicketStatus.WAITING_ON_CLIENT:
        ticket_change_status(ticket=ticket, status=TicketStatus.WAITING_ON_CLIENT, actor=actor)
    outbox_add(
        emails.reply(ticket, event, contact),
        kind=EmailKind.TICKET_REPLY,
        key=f"ticket-reply:{event.pk}",
        client=ticket.client,
        now=now,
    )
    return event


@transaction.atomic
def ticket_add_note(*, ticket: Ticket, body: str, actor: User) -> TicketEvent:
    ticket = _locked(ticket)
    return _event(ticket, TicketEventKind.NOTE, actor, body=body.strip())


@transaction.atomic
def time_log(
    *,
    ticket: Ticket,
    consultant: User,
    minutes: int,
    work_date: dt.date,
    note: str = "",
    after_hours: bool = False,
) -> TimeEntry:
    """Log work: minutes the contract in force on the work date covers, the rest billed.

    The contract is the one that covered `work_date`, not the one the client holds today: work
    done before a contract started is break-fix labour, and work done under a contract that
    has since ended still draws on that contract's hours.
    """
    ticket = _locked(ticket)
    _require_open(ticket)
    if not 1 <= minutes <= MAX_MINUTES_PER_ENTRY:
        raise TicketError(
            f"Log between 1 minute and {MAX_MINUTES_PER_ENTRY // 60} hours per entry."
        )
    today = timezone.localdate()
    if work_date > today:
        raise TicketError("Work cannot be logged for a day that has not happened yet.")
    if work_date < timezone.localdate(ticket.opened_at):
        raise TicketError("Work cannot be logged before the ticket was opened.")
    contract = work_contract(client=ticket.client, work_date=work_date)
    used = 0
    if contract is not None:
        month = Period.of(work_date)
        used = (
            TimeEntry.objects.filter(
                contract=contract, work_date__range=(month.first_day, month.last_day)
            ).aggregate(used=Sum("covered_minutes"))["used"]
            or 0
        )
    split = work_split(contract=contract, work_date=work_date, minutes=minutes, used=used)
    charge = work_charge(
        client_id=ticket.client_id,
        split=split,
        work_date=work_date,
        after_hours=after_hours,
        description=f"ticket #{ticket.pk}: {ticket.subject}",
        by=consultant,
    )
    entry = TimeEntry.objects.create(
        ticket=ticket,
        consultant=consultant,
        contract=contract,
        work_date=work_date,
        minutes=minutes,
        covered_minutes=split.covered,
        billable_minutes=split.billable,
        after_hours=after_hours,
        charge=charge,
        note=note.strip(),
    )
    summary = f"{minutes} min logged"
    if split.covered:
        summary += f", {split.covered} covered by the contract"
    if split.billable and charge is not None:
        summary += f", {split.billable} billable ({money(charge.amount)})"
    elif split.billable and contract is not None:
        summary += f", {split.billable} beyond the included hours (overage, billed with the month)"
    _event(ticket, TicketEventKind.TIME, consultant, body=f"{summary}. {note.strip()}".strip())
    return entry


def tickets_requeue_for_client(*, client: Client, contract: ServiceContract | None) -> int:
    """Re-derive the queue keys of a client's open tickets after its contract status changed.

    Called inside the contract service's transaction (via the contracts signals). Deadlines of
    tickets that become contract tickets run from now: the guarantee starts with the contract.
    """
    now = timezone.now()
    tickets = list(
        Ticket.objects.open().for_client(client).select_for_update(of=("self",)).order_by("pk")
    )
    for ticket in tickets:
        ticket.updated_at = now  # bulk_update does not apply auto_now
        was_contract = ticket.contract_id is not None
        if contract is not None:
            ticket.contract = contract
            _apply_contract(ticket, contract, now)
            if ticket.status == TicketStatus.WAITING_ON_CLIENT:
                ticket.sla_paused_at = now
        else:
            _apply_contract(ticket, None, now)
            ticket.sla_paused_at = None
        if was_contract != (contract is not None):
            TicketEvent.objects.create(
                ticket=ticket,
                kind=TicketEventKind.SLA,
                body="Now served under the client's new contract: guaranteed response times apply."
                if contract is not None
                else "The client's contract ended: the ticket waits in line without a guarantee.",
            )
    if tickets:
        Ticket.objects.bulk_update(tickets, QUEUE_KEY_FIELDS)
    return len(tickets)
