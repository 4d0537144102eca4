"""The practice's billing: its rate card, the monthly runs, what they posted, and invoices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery, Sum
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing.periods import Period
from clients.models import Charge, Client
from clients.money import money
from contracts.models import BusinessCalendar, ServiceContract

if TYPE_CHECKING:
    from typing import Self


class RateCard(models.Model):
    """The one row of prices and invoice terms, edited by managers in the admin.

    Seeded from PRACTICE_HOURLY_RATE and PRACTICE_PAID_PRIORITY_SURCHARGE the first time it is
    read; after that the admin is the truth. Every charge stores the rate it was priced at, so a
    change here applies to new work only.
    """

    hourly_rate = models.DecimalField(
        "hourly rate",
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="What an hour of break-fix work costs a client without a contract.",
    )
    after_hours_rate = models.DecimalField(
        "after-hours rate",
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Optional: the hourly rate for break-fix work outside the business calendar "
        "(a day it does not work, or work the consultant marks as after hours). Empty: the "
        "hourly rate applies at any time.",
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The practice's working days, for the after-hours rate.",
    )
    paid_priority_surcharge = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="What a client without a contract pays to move its ticket ahead of other "
        "break-fix work.",
    )
    bills_from = models.DateField(
        "bill from",
        null=True,
        blank=True,
        help_text="Optional: the first month billed here (its first day). Earlier months were "
        "billed elsewhere, and no run or invoice reaches back to them.",
    )
    payment_terms_days = models.PositiveIntegerField(
        "payment terms (days)",
        default=14,
        validators=[MaxValueValidator(365)],
        help_text="An invoice is due this many days after it is issued.",
    )
    issue_after_run = models.BooleanField(
        "issue invoices after the monthly run",
        default=False,
        help_text="Off: the monthly run posts fees and overage, and a manager reviews the drafts "
        "and issues them on /billing/.",
    )
    invoice_details = models.TextField(
        blank=True,
        max_length=1000,
        help_text="Printed under the practice's name on every invoice: its address, tax number "
        "and how to pay. Copied onto each invoice as it is issued, so a change here never "
        "rewrites an invoice already sent.",
    )
    sales_account_code = models.CharField(
        max_length=20,
        default="200",
        help_text="The income account invoice lines post to in the accounting software "
        "(Xero's AccountCode; 200 is Xero's default Sales account).",
    )
    tax_type = models.CharField(
        max_length=40,
        default="Tax Exempt",
        help_text="The tax rate name the accounting software applies to invoice lines "
        '(Xero\'s TaxType, such as "Tax Exempt" or "Tax on Sales").',
    )

    # The audit trail (clients.audit): who changed a rate or the invoice terms, and when.
    history = HistoricalRecords()

    class Meta:
        verbose_name = "rate card"
        verbose_name_plural = "rate card"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="rate_card_single_row"),
            models.CheckConstraint(
                condition=Q(hourly_rate__gte=0)
                & Q(paid_priority_surcharge__gt=0)
                & (Q(after_hours_rate__isnull=True) | Q(after_hours_rate__gte=0)),
                name="rate_card_rates_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return "Rate card"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> RateCard:
        """The row (one query); seeded from the settings if a flushed database lost it."""
        card = cls.objects.filter(pk=1).first()
        if card is None:
            card, _ = cls.objects.get_or_create(
                pk=1,
                defaults={
                    "hourly_rate": settings.HOURLY_RATE,
                    "paid_priority_surcharge": settings.PAID_PRIORITY_SURCHARGE,
                    "calendar": BusinessCalendar.objects.order_by("pk").first(),
                },
            )
        return card

    def labour_rate(self, *, after_hours: bool) -> Decimal:
        """The hourly rate for break-fix work, after hours or not."""
        if after_hours and self.after_hours_rate is not None:
            return self.after_hours_rate
        return self.hourly_rate


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual (/billing/)"
    COMMAND = "command", "Command line"


class BillingRun(models.Model):
    """One billing run of one period: what it posted and issued, for the audit trail."""

    period = models.DateField(help_text="The first day of the month billed.")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    contracts_billed = models.PositiveIntegerField(default=0)
    fees_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    overage_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    invoices_issued = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["-period"], name="billing_run_period_idx")]

    def __str__(self) -> str:
        return f"Billing run for {self.billing_period.label}"

    @property
    def billing_period(self) -> Period:
        return Period.of(self.period)


class ContractPeriodQuerySet(models.QuerySet["ContractPeriod"]):
    def for_period(self, period: Period) -> Self:
        return self.filter(period=period.first_day)


class ContractPeriod(models.Model):
    """One contract's billing for one month: the fee and the overage the run posted.

    The row is the run's claim on the month: one per contract and period (a constraint), so a
    second run, or two at once, posts nothing twice. Once it exists, time logged later for that
    month under the contract is billed at once instead of waiting for a run.
    """

    contract = models.ForeignKey(
        ServiceContract, on_delete=models.PROTECT, related_name="billed_periods"
    )
    period = models.DateField(help_text="The first day of the month billed.")
    days_covered = models.PositiveSmallIntegerField()
    included_minutes = models.PositiveIntegerField()
    overage_minutes = models.PositiveIntegerField(default=0)
    fee = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="contract_fee"
    )
    overage = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="contract_overage"
    )
    run = models.ForeignKey(BillingRun, on_delete=models.PROTECT, related_name="contract_periods")

    objects = ContractPeriodQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "contract"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "period"], name="one_billing_per_contract_period"
            ),
            models.CheckConstraint(
                condition=Q(days_covered__gte=1, days_covered__lte=31),
                name="contract_period_days_in_month",
            ),
        ]
        indexes = [models.Index(fields=["period"], name="contract_period_period_idx")]

    def __str__(self) -> str:
        return f"{self.contract} for {Period.of(self.period).label}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


NUMBER_PREFIX = {InvoiceKind.INVOICE: "INV", InvoiceKind.CREDIT_NOTE: "CN"}


class InvoiceSequence(models.Model):
    """The last number given to an invoice (or credit note) in a year: locked to give the next."""

    kind = models.CharField(max_length=16, choices=InvoiceKind.choices)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="one_sequence_per_kind_year")
        ]

    def __str__(self) -> str:
        return f"{NUMBER_PREFIX[InvoiceKind(self.kind)]}-{self.year} at {self.last}"


class InvoiceQuerySet(models.QuerySet["Invoice"]):
    def invoices(self) -> Self:
        return self.filter(kind=InvoiceKind.INVOICE)

    def for_period(self, period: Period) -> Self:
        return self.filter(period=period.first_day)

    def search(self, text: str) -> Self:
        """Invoices to a client whose name (then or now) contains `text`."""
        return self.filter(Q(bill_to__icontains=text) | Q(client__name__icontains=text))

    def exported_to(self, export_format: str, *, exported: bool = True) -> Self:
        mark = Invoice.EXPORT_MARKS[ExportFormat(export_format)]
        return self.filter(**{f"{mark}__isnull": not exported})

    def with_credited(self) -> Self:
        """Annotate `credited`: what credit notes took off each invoice (None: nothing)."""
        credited = (
            Invoice.objects.filter(credits=OuterRef("pk"))
            .order_by()
            .values("credits")
            .annotate(sum=Sum("total"))
            .values("sum")
        )
        return self.annotate(credited=Subquery(credited))


class ExportFormat(models.TextChoices):
    XERO = "xero", "Xero"
    QUICKBOOKS = "quickbooks", "QuickBooks Online"


class Invoice(models.Model):
    """An issued invoice or credit note. Drafts are not stored: they are the charges not yet
    invoiced. Once issued, an invoice never changes; only its export marks are set later."""

    kind = models.CharField(max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.CharField(max_length=20, unique=True)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    period = models.DateField(help_text="The first day of the month billed.")
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    # What the invoice says, as it said it: renaming the client, or the practice changing its
    # address on the rate card, later does not rewrite it.
    issuer = models.CharField(max_length=200, blank=True)
    issuer_details = models.TextField(blank=True)
    bill_to = models.CharField(max_length=200)
    bill_to_email = models.EmailField(max_length=254, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    credits = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    reason = models.CharField(max_length=300, blank=True)
    exported_to_xero_at = models.DateTimeField(null=True, blank=True)
    exported_to_quickbooks_at = models.DateTimeField(null=True, blank=True)

    objects = InvoiceQuerySet.as_manager()

    EXPORT_MARKS = {
        ExportFormat.XERO: "exported_to_xero_at",
        ExportFormat.QUICKBOOKS: "exported_to_quickbooks_at",
    }

    class Meta:
        ordering = ["-issued_at", "-pk"]
        indexes = [
            models.Index(fields=["period", "kind"], name="invoice_period_kind_idx"),
            models.Index(fields=["client", "-issued_at"], name="invoice_client_issued_idx"),
            models.Index(fields=["-issued_at", "-id"], name="invoice_issued_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "sequence"], name="gapless_number"),
            # One invoice per client and month; later charges go on the next month's.
            models.UniqueConstraint(
                fields=["client", "period"],
                condition=Q(kind=InvoiceKind.INVOICE),
                name="one_invoice_per_client_period",
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.INVOICE, credits__isnull=True, total__gte=0)
                | Q(kind=InvoiceKind.CREDIT_NOTE, credits__isnull=False, total__lt=0),
                name="invoice_kind_matches_credit",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An issued invoice is a legal record: only the export marks may change after issue.
        update_fields = kwargs.get("update_fields")
        if self.pk is not None and not (
            update_fields and set(update_fields) <= set(self.EXPORT_MARKS.values())
        ):
            raise ValueError("An issued invoice never changes; correct it with a credit note.")
        super().save(*args, **kwargs)

    @property
    def billing_period(self) -> Period:
        return Period.of(self.period)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return not self.is_credit_note and self.due_on < (today or timezone.localdate())

    def exported_at(self, export_format: str) -> dt.datetime | None:
        return getattr(self, self.EXPORT_MARKS[ExportFormat(export_format)])

    @property
    def total_text(self) -> str:
        return money(self.total)


class InvoiceLineQuerySet(models.QuerySet["InvoiceLine"]):
    def not_credited(self) -> Self:
        """Lines no credit note has taken back yet (a line is credited once)."""
        return self.filter(credit__isnull=True)


class InvoiceLine(models.Model):
    """One line of an invoice: a charge, or (on a credit note) the reversal of a line."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    charge = models.OneToOneField(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice_line"
    )
    credited_line = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit"
    )
    kind = models.CharField(max_length=16)
    description = models.CharField(max_length=300)
    service_date = models.DateField()
    quantity = models.DecimalField(max_digits=9, decimal_places=2)
    unit_amount = models.DecimalField(max_digits=10, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    objects = InvoiceLineQuerySet.as_manager()

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            # A charge is billed once (the OneToOne) and each line is either a charge billed or
            # a billed line credited, never both.
            models.CheckConstraint(
                condition=(Q(charge__isnull=False, credited_line__isnull=True, amount__gt=0))
                | Q(charge__isnull=True, credited_line__isnull=False, amount__lt=0),
                name="invoice_line_bills_or_credits",
            ),
            models.UniqueConstraint(fields=["invoice", "position"], name="invoice_line_position"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice} line {self.position}"
