"""Clients of the practice, the people we talk to there, and the ledger of work billed to them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from clients.money import ZERO, money

if TYPE_CHECKING:
    from typing import Self

MONEY_FIELD: models.DecimalField[Decimal, Decimal] = models.DecimalField(
    max_digits=12, decimal_places=2
)
TRAILING_DAYS = 365


def trailing_year_start(now: dt.datetime | None = None) -> dt.datetime:
    """Return the start of the trailing twelve-month window that ends at `now`."""
    return (now or timezone.now()) - dt.timedelta(days=TRAILING_DAYS)


class ClientStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DROPPED = "dropped", "Dropped"


class ClientQuerySet(models.QuerySet["Client"]):
    def active(self) -> Self:
        return self.filter(status=ClientStatus.ACTIVE)

    def with_trailing_spend(self, now: dt.datetime | None = None) -> Self:
        """Annotate `trailing_spend`: what each client was billed in the last twelve months for
        the work a contract would replace (SPEND_KINDS)."""
        return self.annotate(trailing_spend=_trailing_total(now, kinds=SPEND_KINDS))

    def with_trailing_revenue(self, now: dt.datetime | None = None) -> Self:
        """Annotate `trailing_revenue`: everything billed to each client in the last twelve
        months, fees and other sales included (the client list's revenue)."""
        return self.annotate(trailing_revenue=_trailing_total(now))


def _trailing_total(now: dt.datetime | None, *, kinds: tuple[str, ...] | None = None) -> Coalesce:
    """The sum of a client's charges in the last twelve months (of `kinds`, or all)."""
    # A correlated subquery rather than a JOIN + GROUP BY: it composes with other
    # annotations without multiplying rows, and on a paginated list it runs only for the
    # rows shown, each an index range scan on (client, occurred_at).
    charges = Charge.objects.filter(
        client=OuterRef("pk"), occurred_at__gte=trailing_year_start(now)
    )
    if kinds is not None:
        charges = charges.filter(kind__in=kinds)
    total = charges.order_by().values("client").annotate(total=Sum("amount")).values("total")
    return Coalesce(Subquery(total, output_field=MONEY_FIELD), ZERO, output_field=MONEY_FIELD)


class Client(models.Model):
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    dropped_at = models.DateTimeField(null=True, blank=True)
    drop_reason = models.CharField(max_length=500, blank=True)
    offers_opt_out = models.BooleanField(
        "opted out of offers",
        default=False,
        help_text="The client asked not to receive contract offers.",
    )
    customer_since = models.DateField(default=timezone.localdate)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the client's personal data was erased (README: client data rights).",
    )

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        # A client's data rights: export everything held about it, erase its personal data.
        permissions = [
            ("export_client", "Can export everything held about a client"),
            ("erase_client", "Can erase a client's personal data"),
        ]
        indexes = [
            # Case-insensitive name search and the alphabetical client lists.
            models.Index(Lower("name"), name="client_name_lower_idx"),
            models.Index(fields=["status", "name"], name="client_status_name_idx"),
        ]
        constraints = [
            # A dropped client carries the moment it was dropped; an active one carries none.
            models.CheckConstraint(
                condition=(
                    Q(status=ClientStatus.DROPPED, dropped_at__isnull=False)
                    | Q(status=ClientStatus.ACTIVE, dropped_at__isnull=True)
                ),
                name="client_dropped_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_dropped(self) -> bool:
        return self.status == ClientStatus.DROPPED

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class ContactQuerySet(models.QuerySet["Contact"]):
    def primary(self) -> Self:
        return self.filter(is_primary=True)


class Contact(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(
        default=False, help_text="The primary contact receives contract offers."
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(is_primary=True),
                name="one_primary_contact_per_client",
                violation_error_message="A client has one primary contact; untick the other one first.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ChargeKind(models.TextChoices):
    CONTRACT_FEE = "contract_fee", "Contract fee"
    OVERAGE = "overage", "Contract overage"
    LABOUR = "labour", "Labour"
    PAID_PRIORITY = "paid_priority", "Paid priority"
    OTHER = "other", "Other"


# What a client buys that a service contract would replace: its spend when we weigh an offer.
# Contract fees (what it pays *for* a contract) and other sales such as hardware count nowhere
# in that.
SPEND_KINDS = (ChargeKind.LABOUR, ChargeKind.OVERAGE, ChargeKind.PAID_PRIORITY)


class ChargeQuerySet(models.QuerySet["Charge"]):
    def trailing_year(self, now: dt.datetime | None = None) -> Self:
        return self.filter(occurred_at__gte=trailing_year_start(now))

    def total(self) -> Decimal:
        return self.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]


class Charge(models.Model):
    """One line of the ledger: money a client owes the practice (a fee, work, a surcharge).

    The billing app posts contract fees and overage and puts charges on invoices; once a charge
    is on an issued invoice it never changes (a credit note corrects it).
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(max_length=16, choices=ChargeKind.choices)
    amount = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    description = models.CharField(max_length=300)
    hours = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="For labour and overage: the hours billed (how much work the client needed).",
    )
    rate = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The rate this charge was priced at: per hour for labour and overage, the "
        "monthly price for a contract fee, the surcharge for paid priority.",
    )
    occurred_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ChargeQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # Trailing spend per client: equality on client, range on time.
            models.Index(fields=["client", "occurred_at"], name="charge_client_time_idx"),
            models.Index(fields=["occurred_at"], name="charge_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="charge_amount_positive"),
            models.CheckConstraint(
                condition=Q(rate__isnull=True) | Q(rate__gte=0), name="charge_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {money(self.amount)} for client {self.client_id}"


class ClientEventKind(models.TextChoices):
    DROPPED = "dropped", "Dropped"
    REINSTATED = "reinstated", "Reinstated"
    CONTRACT_STARTED = "contract_started", "Contract started"
    CONTRACT_RENEWED = "contract_renewed", "Contract renewed"
    CONTRACT_ENDED = "contract_ended", "Contract ended"
    CONTRACT_CANCELLED = "contract_cancelled", "Contract cancelled"
    RENEWAL_NOTICE = "renewal_notice", "Renewal notice sent"
    OFFER_MADE = "offer_made", "Offer made (by hand or at the moment of need)"
    OFFER_ACCEPTED = "offer_accepted", "Offer accepted"
    OFFER_DECLINED = "offer_declined", "Offer declined"
    OPTED_OUT = "opted_out", "Opted out of offers"
    OPTED_IN = "opted_in", "Opted back in to offers"
    CLIENT_EXPORTED = "client_exported", "Data exported"
    CLIENT_ERASED = "client_erased", "Personal data erased"


class ClientEvent(models.Model):
    """One line of a client's history: who changed its standing, when, and why.

    Written by the service that makes the change, in the same transaction, so the history
    cannot say something happened that was rolled back. Offers a campaign run makes are not
    logged here one by one: the run and its offers are their own record.

    History is never deleted: a client with a history is dropped, not deleted, and a staff
    member who made changes is deactivated, not deleted (PROTECT on both), so an empty `by`
    always means the client or a scheduled task.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=ClientEventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The staff member who made the change; empty when the client or a scheduled "
        "task did.",
    )
    summary = models.CharField(max_length=500)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # A client's history, newest first (the client page), and the practice-wide log.
            models.Index(fields=["client", "-at"], name="client_event_client_at_idx"),
            models.Index(fields=["-at"], name="client_event_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class EmailKind(models.TextChoices):
    """What an outbox email is; the offers themselves are their own outbox (offers.delivery)."""

    TICKET_ACKNOWLEDGEMENT = "ticket_acknowledgement", "Ticket acknowledgement"
    TICKET_REPLY = "ticket_reply", "Reply on a ticket"
    TICKET_AT_RISK = "ticket_at_risk", "Deadline alert"
    OFFER_REMINDER = "offer_reminder", "Offer reminder"
    OFFER_ACCEPTED = "offer_accepted", "Acceptance confirmation"
    OFFER_ACCEPTED_MANAGER = "offer_accepted_manager", "Managers' notice of an acceptance"
    RENEWAL_NOTICE = "renewal_notice", "Renewal notice"
    RENEWALS_WEEKLY = "renewals_weekly", "Weekly renewals digest"


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    UNDELIVERABLE = "undeliverable", "Undeliverable"


class OutboundEmailQuerySet(models.QuerySet["OutboundEmail"]):
    def undeliverable(self) -> Self:
        return self.filter(status=EmailStatus.UNDELIVERABLE)


class OutboundEmail(models.Model):
    """One email to one recipient, written by the service that causes it in its transaction,
    rendered there, and delivered by a task (clients/outbox.py). `key` names the email and its
    recipient ("ticket-acknowledgement:12:ann@acme.example"), so a service that runs twice
    for the same cause writes one row."""

    kind = models.CharField(max_length=32, choices=EmailKind.choices)
    key = models.CharField(max_length=400, unique=True)
    client = models.ForeignKey(
        Client,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="emails",
        help_text="The client the email is about, when there is one (the data rights use it).",
    )
    from_email = models.CharField(max_length=400)
    to = models.TextField()  # an encoded display name can be long: no limit to overflow
    subject = models.TextField()
    text = models.TextField()
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a delivery task was last queued for it."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        verbose_name = "outbound email"
        indexes = [
            # The sweeper's two questions: pending and due, and claims a dead worker left.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_due_idx",
            ),
            models.Index(
                fields=["claimed_at"], condition=Q(status="sending"), name="outbox_claimed_idx"
            ),
            # The admin's list, newest first, filtered by status (and the managers' count of
            # undeliverable emails).
            models.Index(fields=["status", "-created_at"], name="outbox_status_idx"),
            models.Index(fields=["-created_at"], name="outbox_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="outbox_sent_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.to}"
