"""Plans, their terms and service levels, and the service contracts clients hold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clients.models import Client

# The calendar has its own module; its models are named here too, as the app's models.
from contracts.calendars import DAY_NAMES as DAY_NAMES
from contracts.calendars import BusinessCalendar as BusinessCalendar
from contracts.calendars import Holiday as Holiday
from contracts.sla import (
    Deadlines,
    WorkingHours,
    add_covered_minutes,
    add_covered_time,
    duration_words,
    risk_point,
)

if TYPE_CHECKING:
    from typing import Self


class Priority(models.TextChoices):
    # Lives here, not in tickets: plans set a target per priority and contracts sits below tickets.
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Coverage(models.TextChoices):
    BUSINESS_HOURS = "business_hours", "Business hours"
    ALWAYS = "24x7", "24x7"


class ContractPlanQuerySet(models.QuerySet["ContractPlan"]):
    def offered(self) -> Self:
        return self.filter(is_offered=True)

    def with_use(self) -> Self:
        """Annotate what terms_in_use() and was_sold_or_offered() ask, for every plan in the
        same query (the plan page asks a dozen times: fields, fieldsets, inline permissions)."""
        contracts = ServiceContract.objects.filter(plan=OuterRef("pk"))
        offers = plan_offers().filter(plan=OuterRef("pk"))
        return self.annotate(
            terms_held=ExpressionWrapper(
                Q(Exists(contracts.active())) | Q(Exists(offers.open())),
                output_field=models.BooleanField(),
            ),
            referenced=ExpressionWrapper(
                Q(Exists(contracts)) | Q(Exists(offers)), output_field=models.BooleanField()
            ),
        )


def plan_offers() -> Any:
    """All conversion offers, reached through the plans' reverse relation `offers`.

    Offers live in the offers app, above this one, so this module never imports them; an open
    offer holds its plan's terms all the same. The relation's name and the offers' `open()`
    filter are the seam (docs/architecture.md, "Seams").
    """
    offers: Any = ContractPlan._meta.get_field("offers").related_model
    return offers._default_manager.all()


class ContractPlan(models.Model):
    """A tier of service contract: price, included hours, coverage and response targets.

    Running contracts read their included hours, overage rate, coverage and targets from their
    plan, and open offers show them to the client, so while either holds a plan's terms they are
    fixed (RUNNING_TERMS and the plan's targets); to sell different terms, copy the plan
    (contracts.services.plan_copy).
    The price may change: a contract keeps the price it was sold at, an offer the price it made.
    """

    RUNNING_TERMS = (
        "included_hours",
        "overage_hourly_rate",
        "coverage",
        "calendar",
        "term_months",
    )

    name = models.CharField("tier name", max_length=100, unique=True)
    description = models.TextField(blank=True)
    monthly_price = models.DecimalField(
        max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    included_hours = models.DecimalField(
        "included hours per month",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    coverage = models.CharField(
        max_length=16, choices=Coverage.choices, default=Coverage.BUSINESS_HOURS
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="plans",
        help_text="Working hours that the SLA clock runs in (ignored for 24x7 coverage).",
    )
    overage_hourly_rate = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
        help_text="What an hour beyond the included hours costs a contract client.",
    )
    term_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    is_offered = models.BooleanField(
        default=True, help_text="Offered to new clients and recommended by conversion campaigns."
    )

    objects = ContractPlanQuerySet.as_manager()
    # The audit trail (clients.audit): every change of price, figures or offering, by whom.
    history = HistoricalRecords()

    class Meta:
        ordering = ["monthly_price"]
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_price__gte=0), name="plan_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(included_hours__gte=0), name="plan_hours_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def terms_in_use(self) -> bool:
        """Return whether anyone holds this plan's terms: an active contract runs on them, or an
        open offer (whose email and page show the plan's hours and targets) promises them."""
        if self.pk is None:
            return False
        if (held := getattr(self, "terms_held", None)) is not None:  # with_use()
            return bool(held)
        return self.contracts.active().exists() or self.offers.open().exists()

    def current_terms(self) -> ContractTerms | None:
        """The terms a client accepting an offer of this plan now would agree to."""
        return self.terms_versions.order_by("-version").first() if self.pk else None

    def was_sold_or_offered(self) -> bool:
        """Return whether any contract or offer ever named this plan (so it is history: retire
        it, never delete it)."""
        if self.pk is None:
            return False
        if (referenced := getattr(self, "referenced", None)) is not None:  # with_use()
            return bool(referenced)
        return self.contracts.exists() or self.offers.exists()

    def clean(self) -> None:
        if not self.terms_in_use():
            return
        saved = ContractPlan.objects.filter(pk=self.pk).values(*self.RUNNING_TERMS).first() or {}
        # values() and serializable_value() both give a ForeignKey as its id.
        changed = {
            name: "Active contracts or open offers hold this plan's terms; copy the plan to sell "
            "new ones."
            for name in self.RUNNING_TERMS
            if name in saved and saved[name] != self.serializable_value(name)
        }
        if changed:
            raise ValidationError(changed)

    @property
    def is_24x7(self) -> bool:
        return self.coverage == Coverage.ALWAYS

    @property
    def coverage_text(self) -> str:
        """When the response clock runs, in words, for clients."""
        if self.is_24x7:
            return "around the clock, every day of the year"
        return f"in business hours: {self.calendar.hours_text}"

    def working_hours(self) -> WorkingHours | None:
        """Return the covered hours the SLA clock counts (None: every hour counts)."""
        return None if self.is_24x7 else self.calendar.working_hours()

    def deadlines(self, priority: str, start: dt.datetime) -> Deadlines:
        """Return the response and resolution deadlines (and risk moments) for a ticket."""
        # A plan may leave a priority without its own target; its loosest target applies then,
        # so a contract client is still served first and under a guarantee.
        level = (
            self.service_levels.filter(priority=priority).first()
            or self.service_levels.order_by("-response_minutes", "-resolution_minutes").first()
        )
        if level is None:
            raise ServiceLevel.DoesNotExist(f"The {self} plan has no response targets.")
        hours = self.working_hours()
        return Deadlines(
            response_due_at=add_covered_minutes(start, level.response_minutes, hours),
            resolution_due_at=add_covered_minutes(start, level.resolution_minutes, hours),
            response_risk_at=add_covered_time(start, risk_point(level.response_minutes), hours),
            resolution_risk_at=add_covered_time(start, risk_point(level.resolution_minutes), hours),
        )


class ContractTermsQuerySet(models.QuerySet["ContractTerms"]):
    def latest_per_plan(self) -> Self:
        """Each plan's current terms: its highest version."""
        newer = ContractTerms.objects.filter(plan=OuterRef("plan"), version__gt=OuterRef("version"))
        return self.filter(~Exists(newer))


class ContractTerms(models.Model):
    """One version of a plan's terms: what a client agrees to when it accepts an offer.

    Versions are never edited: changing the terms adds the next version, and an offer keeps the
    version it was made with (contracts.services.plan_terms_set).
    """

    plan = models.ForeignKey(ContractPlan, on_delete=models.PROTECT, related_name="terms_versions")
    version = models.PositiveIntegerField()
    summary = models.TextField(
        max_length=1000,
        help_text="A few lines in plain words; the offer page and the confirmation repeat them.",
    )
    text = models.TextField("full terms", max_length=50_000)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ContractTermsQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "-version"]
        verbose_name = "contract terms"
        verbose_name_plural = "contract terms"
        constraints = [
            models.UniqueConstraint(fields=["plan", "version"], name="one_terms_per_plan_version"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} terms, version {self.version}"


class ServiceLevel(models.Model):
    """A plan's response and resolution targets for tickets of one priority."""

    plan = models.ForeignKey(ContractPlan, on_delete=models.CASCADE, related_name="service_levels")
    priority = models.CharField(max_length=8, choices=Priority.choices)
    response_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 30)]
    )
    resolution_minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 90)]
    )

    # Shown on its plan's history page (the targets are edited on the plan's page).
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "priority"], name="one_target_per_plan_priority"
            ),
            models.CheckConstraint(
                condition=Q(response_minutes__gt=0), name="service_level_response_positive"
            ),
            models.CheckConstraint(
                condition=Q(resolution_minutes__gte=F("response_minutes")),
                name="service_level_resolution_after_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} / {self.get_priority_display()}"

    @property
    def response_text(self) -> str:
        """The response target in words: "30 minutes", "2 hours", "4 business hours"."""
        return duration_words(self.response_minutes, business_hours=not self.plan.is_24x7)

    @property
    def resolution_text(self) -> str:
        return duration_words(self.resolution_minutes, business_hours=not self.plan.is_24x7)

    def clean(self) -> None:
        if (
            self.response_minutes
            and self.resolution_minutes
            and self.resolution_minutes < self.response_minutes
        ):
            raise ValidationError(
                {"resolution_minutes": "Resolution cannot be due before the first response."}
            )


class ContractStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"


class RenewalMode(models.TextChoices):
    AUTOMATIC = "automatic", "Renews automatically"
    MANUAL = "manual", "Renewed by hand"


class ServiceContractQuerySet(models.QuerySet["ServiceContract"]):
    def active(self) -> Self:
        return self.filter(status=ContractStatus.ACTIVE)

    def for_client(self, client: Client) -> Self:
        return self.filter(client=client)

    def client_holds_one(self) -> Exists:
        """For a query over clients: whether the client holds an active contract (the rule that
        puts a client first in line and out of reach of offers and drops)."""
        return Exists(self.active().filter(client=OuterRef("pk")))

    def covering(self, first: dt.date, last: dt.date) -> Self:
        """Terms that cover at least one day of [first, last], ended or not; newest first.

        The `last_day` rule in SQL: a term covers from its start to its end, and a cancelled
        one up to the day before it was cancelled (so a term started that day does not share
        it, and a term cancelled before it began covers nothing).
        """
        cancelled_on = TruncDate("ended_at")
        terms = (
            self.annotate(cancelled_on=cancelled_on)
            .filter(starts_on__lte=last, ends_on__gte=first)
            .exclude(status=ContractStatus.CANCELLED, cancelled_on__lte=first)
            .exclude(status=ContractStatus.CANCELLED, cancelled_on__lte=F("starts_on"))
        )
        return terms.order_by("-starts_on", "-pk")

    def held_by(self, client: Client) -> bool:
        """Whether `client` holds an active contract (the same rule, for one client)."""
        return self.active().for_client(client).exists()


class ServiceContract(models.Model):
    """One term of a client's contract. A renewal ends this row and starts the next one."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contracts")
    plan = models.ForeignKey(ContractPlan, on_delete=models.PROTECT, related_name="contracts")
    status = models.CharField(
        max_length=16, choices=ContractStatus.choices, default=ContractStatus.ACTIVE
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    monthly_price = models.DecimalField(
        "monthly price after discount",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    discount_first_term_only = models.BooleanField(
        "discount for the first term only",
        default=False,
        help_text="The loyalty discount ends with this term: a renewal is at the plan's price.",
    )
    renewal = models.CharField(
        max_length=16, choices=RenewalMode.choices, default=RenewalMode.AUTOMATIC
    )
    renewed_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    renewal_notice_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the client was told of the automatic renewal."
    )

    objects = ServiceContractQuerySet.as_manager()
    # The notice's moment is the renewal task's, written by UPDATE and in the client's history;
    # left out here so that a person's later change does not seem to have set it.
    history = HistoricalRecords(excluded_fields=["renewal_notice_sent_at"])

    class Meta:
        ordering = ["-starts_on"]
        indexes = [
            models.Index(fields=["status", "ends_on"], name="contract_status_ends_idx"),
            models.Index(fields=["client", "status"], name="contract_client_status_idx"),
        ]
        constraints = [
            # The rule the whole product leans on: a client holds at most one active contract.
            models.UniqueConstraint(
                fields=["client"],
                condition=Q(status=ContractStatus.ACTIVE),
                name="one_active_contract_per_client",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="contract_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100),
                name="contract_discount_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(monthly_price__gte=0), name="contract_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status=ContractStatus.ACTIVE, ended_at__isnull=True)
                | (~Q(status=ContractStatus.ACTIVE) & Q(ended_at__isnull=False)),
                name="contract_ended_at_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.client} on {self.plan} ({self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d})"
        )

    @property
    def is_active(self) -> bool:
        return self.status == ContractStatus.ACTIVE

    @property
    def last_day(self) -> dt.date:
        """The last day this term covers: the end of the term, or the day before it was
        cancelled (before its start, for a term cancelled before it began)."""
        if self.status == ContractStatus.CANCELLED and self.ended_at is not None:
            return min(self.ends_on, timezone.localdate(self.ended_at) - dt.timedelta(days=1))
        return self.ends_on

    @property
    def discount_ends_with_term(self) -> bool:
        return self.discount_first_term_only and self.discount_percent > 0

    @property
    def renewal_price(self) -> Decimal:
        """The monthly price of the next term: the plan's, once a first-term discount ends."""
        return self.plan.monthly_price if self.discount_ends_with_term else self.monthly_price

    def covers(self, day: dt.date) -> bool:
        """Return whether this term covers work done on `day` (whatever its status now)."""
        return self.starts_on <= day <= self.last_day

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": "The term must end after it starts."})


class RenewalSettings(models.Model):
    """The one row of renewal rules, edited by managers in the admin."""

    notice_days = models.PositiveIntegerField(
        "renewal notice, days before the term ends",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(180)],
        help_text="Clients on automatic renewal are told this many days ahead, with the price "
        "of the next term.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "renewal settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="renewal_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Renewal settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> RenewalSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row
