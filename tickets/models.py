"""Tickets, their activity history and the time consultants log against them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clients.models import Charge, Client, Contact
from contracts.models import Priority, ServiceContract

if TYPE_CHECKING:
    from typing import Self


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_ON_CLIENT = "waiting", "Waiting on client"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_ON_CLIENT)
# Tickets a consultant can act on now; waiting tickets sit outside the line until the client answers.
ACTIONABLE_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS)


class DeadlineState(models.TextChoices):
    NONE = "none", "No guarantee"
    PAUSED = "paused", "Paused"
    OK = "ok", "On time"
    AT_RISK = "at_risk", "At risk"
    OVERDUE = "overdue", "Overdue"


def deadline_state(
    *, due_at: dt.datetime | None, risk_at: dt.datetime | None, paused: bool, now: dt.datetime
) -> DeadlineState:
    """Return where a ticket stands against its current deadline (one rule for page and model)."""
    if due_at is None:
        return DeadlineState.NONE
    if paused:
        return DeadlineState.PAUSED
    if now > due_at:
        return DeadlineState.OVERDUE
    if risk_at is not None and now >= risk_at:
        return DeadlineState.AT_RISK
    return DeadlineState.OK


# The order of the line: contract tickets by the deadline that can still be missed (overdue
# first), then paid priority, then first come first served; the id breaks ties. The partial
# index, the queue's query, a ticket's place in line and the keyset cursor all read this one
# definition. queue_due_at is set for every contract ticket and for no other, so NULLs (which
# SQLite and PostgreSQL order differently) never meet a value within a tier.
QUEUE_ORDER = ("queue_tier", "queue_due_at", "opened_at", "id")


class QueueTier(models.IntegerChoices):
    # Lower is served first: the queue orders by this column before anything else.
    CONTRACT = 0, "Contract"
    PAID_PRIORITY = 1, "Paid priority"
    STANDARD = 2, "Standard"


class TicketQuerySet(models.QuerySet["Ticket"]):
    def open(self) -> Self:
        return self.filter(status__in=OPEN_STATUSES)

    def actionable(self) -> Self:
        return self.filter(status__in=ACTIONABLE_STATUSES)

    def for_client(self, client: Client) -> Self:
        return self.filter(client=client)

    def unassigned(self) -> Self:
        return self.filter(assignee__isnull=True)

    def in_queue_order(self) -> Self:
        """Contract tickets by deadline (overdue first), then paid priority, then first come."""
        return self.order_by(*QUEUE_ORDER)


class Ticket(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="tickets")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    subject = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    opened_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    paid_priority = models.BooleanField(
        default=False, help_text="A transactional client paid the surcharge to move up the line."
    )
    priority_charge = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="priority_ticket"
    )

    # Queue keys, stored so that the queue is one indexed read. They are written by the ticket
    # services only (open, pause, resume, contract start/end), never by hand.
    contract = models.ForeignKey(
        ServiceContract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text="The contract whose guarantees this ticket is served under.",
    )
    queue_tier = models.PositiveSmallIntegerField(
        choices=QueueTier.choices, default=QueueTier.STANDARD
    )
    response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # When 75% of each target has elapsed: from then on the deadline is "at risk".
    response_risk_at = models.DateTimeField(null=True, blank=True)
    resolution_risk_at = models.DateTimeField(null=True, blank=True)
    # The deadline the queue sorts contract tickets by: the response deadline until the first
    # response is sent, the resolution deadline after it. NULL for tickets with no guarantee.
    queue_due_at = models.DateTimeField(null=True, blank=True)
    sla_paused_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while the SLA clock is paused (waiting on client)."
    )
    sla_risk_notified_at = models.DateTimeField(null=True, blank=True)
    # A transactional ticket without a guarantee still shows when it waited too long: the moment
    # it will have waited the campaign's threshold of business hours (offers.CampaignSettings.
    # need_wait_hours, in the rate card's calendar) for a first response. Past it unanswered,
    # the client needed faster service (offers.campaign.showed_need).
    long_wait_at = models.DateTimeField(null=True, blank=True)
    # The new-ticket form's own id (a hidden field): the same form sent twice (a double click,
    # a retry after an error page) opens one ticket and charges one surcharge.
    submission = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            # The queue: one partial index in exactly the queue's sort order, so the first page
            # of the line is read straight off the index with no sort of all open tickets.
            models.Index(
                fields=list(QUEUE_ORDER),
                name="ticket_queue_idx",
                condition=Q(status__in=[TicketStatus.NEW, TicketStatus.IN_PROGRESS]),
            ),
            models.Index(
                fields=["assignee", "status"],
                name="ticket_open_assignee_idx",
                condition=Q(
                    status__in=[
                        TicketStatus.NEW,
                        TicketStatus.IN_PROGRESS,
                        TicketStatus.WAITING_ON_CLIENT,
                    ]
                ),
            ),
            models.Index(fields=["client", "opened_at"], name="ticket_client_opened_idx"),
            # A client's open tickets (the client page and list count them, and show its line):
            # read in proportion to the tickets open, not to the thousands it ever raised.
            models.Index(
                fields=["client"],
                name="ticket_open_client_idx",
                condition=Q(
                    status__in=[
                        TicketStatus.NEW,
                        TicketStatus.IN_PROGRESS,
                        TicketStatus.WAITING_ON_CLIENT,
                    ]
                ),
            ),
            models.Index(fields=["opened_at"], name="ticket_opened_idx"),
            # The moment-of-need scan: tickets still unanswered whose wait just became too long.
            models.Index(
                fields=["long_wait_at"],
                name="ticket_long_wait_idx",
                condition=Q(long_wait_at__isnull=False, first_response_at__isnull=True),
            ),
        ]
        constraints = [
            # queue_tier is stored for the index but follows from contract and paid_priority;
            # the database keeps the three in step.
            models.CheckConstraint(
                condition=Q(contract__isnull=False, queue_tier=QueueTier.CONTRACT)
                | Q(contract__isnull=True, paid_priority=True, queue_tier=QueueTier.PAID_PRIORITY)
                | Q(contract__isnull=True, paid_priority=False, queue_tier=QueueTier.STANDARD),
                name="ticket_queue_tier_follows_contract",
            ),
            # Guaranteed deadlines exist exactly for contract tickets.
            models.CheckConstraint(
                condition=Q(
                    queue_tier=QueueTier.CONTRACT,
                    response_due_at__isnull=False,
                    resolution_due_at__isnull=False,
                    response_risk_at__isnull=False,
                    resolution_risk_at__isnull=False,
                    queue_due_at__isnull=False,
                )
                | Q(
                    ~Q(queue_tier=QueueTier.CONTRACT),
                    response_due_at__isnull=True,
                    resolution_due_at__isnull=True,
                    response_risk_at__isnull=True,
                    resolution_risk_at__isnull=True,
                    queue_due_at__isnull=True,
                ),
                name="ticket_deadlines_only_for_contract_tickets",
            ),
            models.CheckConstraint(
                condition=Q(paid_priority=False) | Q(priority_charge__isnull=False),
                name="ticket_paid_priority_has_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_contract_ticket(self) -> bool:
        return self.queue_tier == QueueTier.CONTRACT

    @property
    def is_paused(self) -> bool:
        return self.sla_paused_at is not None

    @property
    def queue_risk_at(self) -> dt.datetime | None:
        """Return when the deadline the queue sorts by becomes at risk."""
        return self.response_risk_at if self.first_response_at is None else self.resolution_risk_at

    def deadline_state(self, now: dt.datetime) -> DeadlineState:
        return deadline_state(
            due_at=self.queue_due_at, risk_at=self.queue_risk_at, paused=self.is_paused, now=now
        )

    @property
    def responded_in_time(self) -> bool | None:
        """Whether the first response met its deadline; None before it (or with no deadline)."""
        if self.first_response_at is None or self.response_due_at is None:
            return None
        return self.first_response_at <= self.response_due_at

    @property
    def resolved_in_time(self) -> bool | None:
        """Whether the ticket was resolved by its deadline; None while unresolved."""
        if self.resolved_at is None or self.resolution_due_at is None:
            return None
        return self.resolved_at <= self.resolution_due_at

    def is_breached(self, now: dt.datetime) -> bool:
        return self.deadline_state(now) == DeadlineState.OVERDUE

    def is_at_risk(self, now: dt.datetime) -> bool:
        """Return whether the current deadline is within 25% of its target, or past it."""
        return self.deadline_state(now) in (DeadlineState.AT_RISK, DeadlineState.OVERDUE)


class TicketEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    REPLY = "reply", "Reply to client"
    NOTE = "note", "Internal note"
    STATUS = "status", "Status change"
    ASSIGNMENT = "assignment", "Assignment"
    TIME = "time", "Time logged"
    PAID_PRIORITY = "paid_priority", "Paid priority bought"
    SLA = "sla", "Service level change"
    SLA_RISK = "sla_risk", "Deadline at risk"


class TicketEvent(models.Model):
    """One line of a ticket's history: who did what, and when."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=TicketEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(blank=True)
    from_value = models.CharField(max_length=64, blank=True)
    to_value = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    def _label(self, value: str) -> str:
        # A status change stores the status codes; people read their names.
        if self.kind == TicketEventKind.STATUS and value in TicketStatus.values:
            return str(TicketStatus(value).label)
        return value

    @property
    def from_label(self) -> str:
        return self._label(self.from_value)

    @property
    def to_label(self) -> str:
        return self._label(self.to_value)


MAX_MINUTES_PER_ENTRY = 16 * 60


class TimeEntry(models.Model):
    """Work logged on a ticket, split into minutes the contract covers and minutes billed."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="time_entries")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries"
    )
    contract = models.ForeignKey(
        ServiceContract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_entries",
        help_text="The contract term in force on the work date, if any: its included hours "
        "cover the work, and its overage rate prices what is beyond them.",
    )
    work_date = models.DateField()
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MINUTES_PER_ENTRY)]
    )
    covered_minutes = models.PositiveIntegerField(default=0)
    billable_minutes = models.PositiveIntegerField(
        default=0,
        help_text="Break-fix labour, or under a contract the minutes beyond its included hours "
        "(overage: the month's billing run charges them).",
    )
    after_hours = models.BooleanField(
        default=False, help_text="Marked by the consultant as done outside business hours."
    )
    charge = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="time_entry"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-work_date", "-id"]
        verbose_name_plural = "time entries"
        indexes = [
            # Included hours used so far this month: equality on contract, range on date.
            models.Index(fields=["contract", "work_date"], name="time_contract_date_idx"),
            models.Index(fields=["consultant", "work_date"], name="time_consultant_date_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gt=0, minutes__lte=MAX_MINUTES_PER_ENTRY),
                name="time_entry_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=Q(minutes=F("covered_minutes") + F("billable_minutes")),
                name="time_entry_split_adds_up",
            ),
            models.CheckConstraint(
                condition=Q(covered_minutes=0) | Q(contract__isnull=False),
                name="time_entry_covered_needs_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min on #{self.ticket_id}"
