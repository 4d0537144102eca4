"""The conversion engine's records: the campaign rules, each campaign run, and the offers made."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clients.models import Client
from clients.money import cents
from contracts.models import ContractPlan, ContractTerms, ServiceContract
from contracts.terms import standard_terms_of

if TYPE_CHECKING:
    from typing import Self


class DiscountTerm(models.TextChoices):
    FIRST_TERM = "first_term", "the first term only"
    EVERY_TERM = "every_term", "every term, renewals included"


class CampaignSettings(models.Model):
    """The one row of campaign rules, edited by managers in the admin."""

    min_trailing_spend = models.DecimalField(
        "minimum spend, last 12 months",
        max_digits=10,
        decimal_places=2,
        default=Decimal("500.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="A client qualifies by spending at least this much…",
    )
    min_trailing_tickets = models.PositiveIntegerField(
        "minimum tickets, last 12 months",
        default=4,
        help_text="…or by raising at least this many tickets.",
    )
    cooldown_days = models.PositiveIntegerField(
        default=90,
        validators=[MaxValueValidator(3650)],
        help_text="Days after an offer (answered or not) before the client is offered again.",
    )
    offer_lifetime_days = models.PositiveIntegerField(
        default=21, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    reminder_days_before_expiry = models.PositiveIntegerField(
        default=3, validators=[MaxValueValidator(60)]
    )
    base_discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("5.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tenure_bonus_percent_per_year = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Added for each full year the client has been a customer.",
    )
    max_discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("12.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    max_savings_premium_percent = models.DecimalField(
        "largest premium of a savings offer",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="How much more than the client paid last year (in %) the replayed contract "
        "may cost and still be offered as a saving. At 0% a savings offer never costs more.",
    )
    max_value_premium_percent = models.DecimalField(
        "largest premium of a value offer",
        max_digits=6,
        decimal_places=2,
        default=Decimal("100.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
        help_text="How much more than it paid (in %) a client that needed faster service may "
        "be asked to pay for a contract. At 100% a value offer at most doubles its spend; "
        "beyond that it gets no offer.",
    )
    need_wait_hours = models.PositiveIntegerField(
        "wait that shows need, business hours",
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="A transactional ticket that waits this long for a first response shows the "
        "client needs faster service: it is offered a contract at that moment, and a client "
        "whose contract would cost more than it paid gets a value offer instead of none.",
    )
    moment_offers = models.BooleanField(
        "offer at the moment of need",
        default=True,
        help_text="Offer a contract within the hour when a transactional client buys paid "
        "priority or waits past the threshold above (same rules as a campaign).",
    )
    discount_applies_to = models.CharField(
        "loyalty discount applies to",
        max_length=16,
        choices=DiscountTerm.choices,
        default=DiscountTerm.FIRST_TERM,
    )
    max_offers_per_run = models.PositiveIntegerField(
        default=10_000, validators=[MinValueValidator(1)], help_text="The best-ranked first."
    )

    # The audit trail (clients.audit): who changed which rule, and when.
    history = HistoricalRecords()

    class Meta:
        verbose_name = "campaign settings"
        verbose_name_plural = "campaign settings"
        constraints = [
            # A single row: the primary key is always 1.
            models.CheckConstraint(condition=Q(pk=1), name="campaign_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Campaign settings"

    def save(self, *args: object, **kwargs: object) -> None:
        self.pk = 1
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def load(cls) -> CampaignSettings:
        settings_row, _ = cls.objects.get_or_create(pk=1)
        return settings_row


class CampaignTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual"


class CampaignRun(models.Model):
    """One campaign run: who was offered what, for the audit trail."""

    started_at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=16, choices=CampaignTrigger.choices)
    eligible_clients = models.PositiveIntegerField(default=0)
    offers_created = models.PositiveIntegerField(default=0)
    savings_offers = models.PositiveIntegerField(default=0)
    value_offers = models.PositiveIntegerField(default=0)
    not_offered = models.PositiveIntegerField(
        default=0, help_text="Clients who qualified but whom no contract fits."
    )
    not_offered_reasons = models.JSONField(
        default=dict, blank=True, help_text="Why they were not offered: reason -> clients."
    )
    triggered_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Campaign of {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"


class OfferStatus(models.TextChoices):
    PENDING = "pending", "Pending (to be sent)"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    WITHDRAWN = "withdrawn", "Withdrawn"
    UNDELIVERABLE = "undeliverable", "Undeliverable (the mail server refused it)"


OPEN_OFFER_STATUSES = (OfferStatus.PENDING, OfferStatus.SENDING, OfferStatus.SENT)
# The longest name or role of the person who accepts an offer.
SIGNER_MAX_LENGTH = 200


class OfferKind(models.TextChoices):
    SAVINGS = "savings", "Savings (the contract would have cost no more)"
    VALUE = "value", "Value (a premium for faster service)"


class OfferSource(models.TextChoices):
    CAMPAIGN = "campaign", "Campaign run"
    MOMENT = "moment", "Moment of need"
    MANUAL = "manual", "Sent by a manager"


class ConversionOfferQuerySet(models.QuerySet["ConversionOffer"]):
    def open(self) -> Self:
        return self.filter(status__in=OPEN_OFFER_STATUSES)

    def in_inbox(self, now: dt.datetime) -> Self:
        """Sent and still answerable: what the client can act on right now (open() also holds
        offers not sent yet, and expired ones the nightly task has not closed)."""
        return self.filter(status=OfferStatus.SENT, expires_at__gt=now)

    def for_client(self, client_id: int) -> Self:
        return self.filter(client_id=client_id)

    def withdraw(self, now: dt.datetime) -> int:
        """Close these offers unanswered (the client got a contract, was dropped, opted out)."""
        return self.update(status=OfferStatus.WITHDRAWN, responded_at=now)


class ConversionOffer(models.Model):
    """A personal contract offer to a transactional client, with its loyalty discount."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="offers")
    contact = models.ForeignKey(
        "clients.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    email = models.EmailField(help_text="Where the offer was sent (the primary contact then).")
    # Plans read their open offers through this relation's name (ContractPlan.terms_in_use).
    plan = models.ForeignKey(ContractPlan, on_delete=models.PROTECT, related_name="offers")
    campaign_run = models.ForeignKey(
        CampaignRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="offers"
    )
    status = models.CharField(
        max_length=16, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    kind = models.CharField(max_length=16, choices=OfferKind.choices, default=OfferKind.SAVINGS)
    source = models.CharField(
        max_length=16, choices=OfferSource.choices, default=OfferSource.CAMPAIGN
    )
    need = models.CharField(
        max_length=200, blank=True, help_text="The need for faster service the client showed."
    )
    # The offer's terms, fixed when it is made.
    terms = models.ForeignKey(
        ContractTerms,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offers",
        help_text="The version of the plan's terms the offer was made with.",
    )
    discount_first_term_only = models.BooleanField(
        default=False, help_text="The discount ends with the first term."
    )
    list_price = models.DecimalField(max_digits=10, decimal_places=2)
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2)
    monthly_price = models.DecimalField(
        "monthly price after discount", max_digits=10, decimal_places=2
    )
    # The savings statement: the last twelve months against what the contract would have cost.
    trailing_labour = models.DecimalField(max_digits=12, decimal_places=2)
    trailing_priority = models.DecimalField(max_digits=12, decimal_places=2)
    trailing_spend = models.DecimalField(max_digits=12, decimal_places=2)
    trailing_hours = models.DecimalField(max_digits=8, decimal_places=2)
    trailing_tickets = models.PositiveIntegerField()
    priority_purchases = models.PositiveIntegerField()
    contract_cost = models.DecimalField(
        "what the contract would have cost in those 12 months", max_digits=12, decimal_places=2
    )
    monthly = models.JSONField(
        default=list,
        blank=True,
        help_text="The replay, month by month: hours worked, paid, and the contract's cost.",
    )
    # A random value in every link: a signature over (id, nonce) cannot be replayed on another
    # offer, and rotating it would void links already sent.
    nonce = models.CharField(max_length=32, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(
        null=True, blank=True, help_text="When the client first opened the offer's page."
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=SIGNER_MAX_LENGTH, blank=True)
    signer_role = models.CharField(max_length=SIGNER_MAX_LENGTH, blank=True)
    accepted_ip = models.GenericIPAddressField(null=True, blank=True)
    accepted_user_agent = models.CharField(max_length=500, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a send task took this offer (status sending)."
    )
    contract = models.OneToOneField(
        ServiceContract,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offer",
        help_text="The contract the client started by accepting this offer.",
    )

    objects = ConversionOfferQuerySet.as_manager()
    # The audit trail (clients.audit) of what people and services change: a manual offer, an
    # answer, a withdrawal. A campaign's offers are bulk-inserted without an entry each (the run
    # is their record), and delivery, reminders and expiry are the machine's UPDATEs. Left out:
    # the machine's own columns, the nonce (the secret half of the client's links) and the
    # replay, which never change.
    history = HistoricalRecords(
        excluded_fields=[
            "nonce",
            "monthly",
            "sent_at",
            "reminded_at",
            "opened_at",
            "send_attempts",
            "claimed_at",
        ]
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "expires_at"], name="offer_status_expiry_idx"),
            models.Index(fields=["client", "created_at"], name="offer_client_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status__in=["pending", "sending", "sent"]),
                name="one_open_offer_per_client",
                violation_error_message="This client already has an open offer.",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="offer_discount_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(monthly_price__gte=0), name="offer_price_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Offer of {self.plan} to {self.client}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_OFFER_STATUSES

    def terms_shown(self) -> ContractTerms:
        """The terms the client reads and agrees to by accepting: the version the offer was made
        with. An offer made before terms were versioned shows the plan's current terms, and
        accepting it records that version; a plan that never had terms shows its standard
        terms, not saved until the offer is accepted (offers.services.offer_accept)."""
        if self.terms is not None:
            return self.terms
        if (current := self.plan.current_terms()) is not None:
            return current
        summary, text = standard_terms_of(self.plan)
        return ContractTerms(plan=self.plan, version=1, summary=summary, text=text)

    def is_expired(self, now: dt.datetime) -> bool:
        return self.status == OfferStatus.EXPIRED or (self.is_open and now >= self.expires_at)

    @property
    def savings(self) -> Decimal:
        """What the client would have saved in the last year (negative: what it would have cost)."""
        return self.trailing_spend - self.contract_cost

    @property
    def has_history(self) -> bool:
        """Whether the client had work with us in the year the statement covers."""
        return self.trailing_spend > 0 or self.trailing_tickets > 0

    @property
    def price_after_discount(self) -> Decimal:
        """The monthly price once the first term (and its discount) ends."""
        if self.discount_first_term_only and self.discount_percent > 0:
            return self.list_price
        return self.monthly_price

    @property
    def monthly_premium(self) -> Decimal:
        """What the contract would have cost a month on top of what the client paid."""
        return cents(self.extra_cost / 12)

    @property
    def extra_cost(self) -> Decimal:
        """What the contract would have cost on top of what the client paid (0 if it saves)."""
        return max(-self.savings, Decimal("0.00"))
