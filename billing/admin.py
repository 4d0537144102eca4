"""Billing in the Django admin: the rate card, the runs and what they posted, issued invoices,
and the client's invoices on its page (a subclass of contracts' client admin, registered in its
place). Everything but the rate card is a record to read: runs and invoices are made on
/billing/ and by `manage.py run_billing`, through billing's services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from billing.invoicing import invoice_balance
from billing.models import (
    BillingRun,
    ContractPeriod,
    ExportFormat,
    Invoice,
    InvoiceLine,
    RateCard,
)
from billing.periods import Period, PeriodError
from clients.admin import SingleRowAdmin, money_display, staff_display
from clients.admin_readonly import ReadOnlyAdmin
from clients.audit import HistoryAdmin
from clients.models import ChargeKind, Client
from clients.money import as_hours, money
from contracts.admin import ContractClientAdmin

CLIENT_INVOICES = 12  # the newest invoices and credit notes shown on a client's page


@admin.display(description="period", ordering="period")
def period_display(model_admin: Any, obj: BillingRun | ContractPeriod | Invoice) -> str:
    return Period.of(obj.period).label


class PeriodFilter(admin.SimpleListFilter):
    """The months that have rows, newest first, by name ("February 2025"): one query."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        months = (
            model_admin.model.objects.order_by("-period")
            .values_list("period", flat=True)
            .distinct()
        )
        return [(str(Period.of(day)), Period.of(day).label) for day in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        if self.value() is None:
            return None
        try:
            return queryset.filter(period=Period.parse(self.value() or "").first_day)
        except PeriodError as exc:
            raise IncorrectLookupParameters(str(exc)) from exc


# --- The rate card -----------------------------------------------------------------------------
NEW_WORK_ONLY = (
    "A change applies to new work only: every charge stores the rate it was priced at, so "
    "charges already on the ledger keep theirs."
)


class RateCardForm(forms.ModelForm):
    class Meta:
        model = RateCard
        fields = [
            "hourly_rate",
            "after_hours_rate",
            "calendar",
            "paid_priority_surcharge",
            "bills_from",
            "payment_terms_days",
            "issue_after_run",
            "invoice_details",
            "sales_account_code",
            "tax_type",
        ]
        # The validators' own words ("greater than or equal to 0") say less than these.
        error_messages = {
            "hourly_rate": {"min_value": "A rate cannot be negative."},
            "after_hours_rate": {
                "min_value": "A rate cannot be negative; leave it empty to charge the hourly "
                "rate at any time."
            },
            "paid_priority_surcharge": {
                "min_value": "The surcharge must be at least $0.01: paid priority is never free."
            },
            "payment_terms_days": {"max_value": "Payment terms are at most 365 days."},
        }

    def clean_bills_from(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data["bills_from"]
        # A month, named by its first day: any day of it is read as the month.
        return None if day is None else day.replace(day=1)


@admin.register(RateCard)
class RateCardAdmin(HistoryAdmin, SingleRowAdmin):
    """The single row of rates and invoice terms: the changelist goes straight to it."""

    form = RateCardForm
    fieldsets = [
        (
            "Rates",
            {
                "fields": [
                    "hourly_rate",
                    "after_hours_rate",
                    "calendar",
                    "paid_priority_surcharge",
                ],
                "description": NEW_WORK_ONLY,
            },
        ),
        (
            "Invoices",
            {"fields": ["bills_from", "payment_terms_days", "issue_after_run", "invoice_details"]},
        ),
        ("Accounting export", {"fields": ["sales_account_code", "tax_type"]}),
    ]


# --- Billing runs and what they posted ---------------------------------------------------------
@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "period_label",
        "trigger",
        "triggered_by_name",
        "started_at",
        "finished_at",
        "contracts",
        "fees",
        "overage",
        "invoices_issued",
    ]
    list_select_related = ["triggered_by"]
    list_filter = ["trigger"]
    list_per_page = 50
    fields = (
        "period_label",
        "trigger",
        "triggered_by_name",
        "started_at",
        "finished_at",
        "contracts_billed",
        "fees",
        "overage",
        "invoices_issued",
    )
    readonly_fields = fields

    period_label = period_display
    triggered_by_name = staff_display("triggered_by", "by")
    fees = money_display("fees_total", "fees")
    overage = money_display("overage_total", "overage")

    @admin.display(description="contracts billed", ordering="contracts_billed")
    def contracts(self, obj: BillingRun) -> str:
        url = reverse("admin:billing_contractperiod_changelist")
        query = urlencode({"run__id__exact": obj.pk})
        return format_html('<a href="{}?{}">{}</a>', url, query, obj.contracts_billed)


def _charge_amount(name: str, description: str) -> Callable[[Any, ContractPeriod], str | None]:
    @admin.display(description=description, ordering=f"{name}__amount")
    def shown(model_admin: Any, obj: ContractPeriod) -> str | None:
        charge = getattr(obj, name)
        return money(charge.amount) if charge is not None else None  # None reads as "-"

    return shown


@admin.register(ContractPeriod)
class ContractPeriodAdmin(ReadOnlyAdmin):
    """Each contract's month as the run billed it: the fee and the overage it posted."""

    list_display = [
        "contract",
        "period_label",
        "days_covered",
        "included_hours",
        "overage_hours",
        "fee_amount",
        "overage_amount",
    ]
    list_select_related = ["contract__client", "contract__plan", "fee", "overage"]
    list_filter = [PeriodFilter]
    search_fields = ["contract__client__name"]
    list_per_page = 50
    # About one row per contract a month: count the filtered rows only.
    show_full_result_count = False
    fields = (
        "contract",
        "period_label",
        "days_covered",
        "included_hours",
        "overage_hours",
        "fee",
        "overage",
        "run",
    )
    readonly_fields = fields

    period_label = period_display
    fee_amount = _charge_amount("fee", "fee")
    overage_amount = _charge_amount("overage", "overage")

    @admin.display(description="included hours", ordering="included_minutes")
    def included_hours(self, obj: ContractPeriod) -> str:
        return f"{as_hours(obj.included_minutes)} h"

    @admin.display(description="overage hours", ordering="overage_minutes")
    def overage_hours(self, obj: ContractPeriod) -> str:
        return f"{as_hours(obj.overage_minutes)} h"


# --- Invoices and credit notes -----------------------------------------------------------------
class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fk_name = "invoice"
    extra = 0
    can_delete = False
    fields = (
        "position",
        "kind_label",
        "description",
        "service_date",
        "quantity",
        "unit_shown",
        "amount_shown",
    )
    readonly_fields = fields
    ordering = ["position"]

    unit_shown = money_display("unit_amount", "unit amount")
    amount_shown = money_display("amount", "amount")

    @admin.display(description="kind")
    def kind_label(self, obj: InvoiceLine) -> str:
        return ChargeKind(obj.kind).label if obj.kind in ChargeKind.values else obj.kind

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _export_mark(export_format: ExportFormat) -> Callable[[Any, Invoice], bool]:
    field = Invoice.EXPORT_MARKS[export_format]

    @admin.display(description=export_format.label, boolean=True, ordering=field)
    def shown(model_admin: Any, obj: Invoice) -> bool:
        return obj.exported_at(export_format) is not None

    return shown


def _exported_at(export_format: ExportFormat) -> Callable[[Any, Invoice], Any]:
    @admin.display(description=f"exported to {export_format.label}")
    def shown(model_admin: Any, obj: Invoice) -> Any:
        return obj.exported_at(export_format) or "not yet"

    return shown


# The invoice page, by section: every field read-only.
INVOICE_FIELDS: list[Any] = [
    "number",
    "kind",
    "client",
    "period_label",
    "issued_at",
    "issued_by_name",
    "due_on",
    "total_shown",
    "balance",
]
BILLED_TO: list[Any] = ["bill_to", "bill_to_email"]
CORRECTIONS: list[Any] = ["corrects", "reason", "credit_notes_list"]
EXPORTS: list[Any] = ["exported_to_xero", "exported_to_quickbooks"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    """Issued invoices and credit notes, which never change: issue and credit on /billing/."""

    list_display = [
        "number",
        "client",
        "period_label",
        "kind",
        "issued_on",
        "due_on",
        "total_shown",
        "xero",
        "quickbooks",
    ]
    list_select_related = ["client"]
    list_filter = ["kind", PeriodFilter]
    search_fields = ["number", "client__name"]
    list_per_page = 50
    # One invoice per client a month: count the filtered rows only.
    show_full_result_count = False
    inlines = [InvoiceLineInline]
    fieldsets = [
        (None, {"fields": INVOICE_FIELDS}),
        ("Billed to", {"fields": BILLED_TO}),
        ("Corrections", {"fields": CORRECTIONS}),
        ("Exports", {"fields": EXPORTS}),
    ]
    readonly_fields = [*INVOICE_FIELDS, *BILLED_TO, *CORRECTIONS, *EXPORTS]

    period_label = period_display
    total_shown = money_display("total", "total")
    issued_by_name = staff_display("issued_by", "issued by")
    xero = _export_mark(ExportFormat.XERO)
    quickbooks = _export_mark(ExportFormat.QUICKBOOKS)
    exported_to_xero = _exported_at(ExportFormat.XERO)
    exported_to_quickbooks = _exported_at(ExportFormat.QUICKBOOKS)

    @admin.display(description="issued", ordering="issued_at")
    def issued_on(self, obj: Invoice) -> dt.date:
        return timezone.localdate(obj.issued_at)

    @admin.display(description="corrects")
    def corrects(self, obj: Invoice) -> str:
        """For a credit note: the invoice it corrects, linked."""
        if obj.credits is None:
            return "-"
        url = reverse("admin:billing_invoice_change", args=[obj.credits_id])
        return format_html('<a href="{}">{}</a>', url, obj.credits.number)

    @admin.display(description="balance after credit notes")
    def balance(self, obj: Invoice) -> str:
        return "-" if obj.is_credit_note else money(invoice_balance(obj))

    @admin.display(description="credit notes")
    def credit_notes_list(self, obj: Invoice) -> str:
        return ", ".join(note.number for note in obj.credit_notes.order_by("issued_at")) or "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Invoice]:
        return super().get_queryset(request).select_related("client", "issued_by", "credits")

    def view_on_site(self, obj: Invoice) -> str | None:
        """The printable invoice on /billing/, when that page exists."""
        try:
            return reverse("billing:invoice", args=[obj.pk])
        except NoReverseMatch:
            return None


# --- The client page, with its invoices --------------------------------------------------------
class BillingClientAdmin(ContractClientAdmin):
    """The client list and page with the client's invoices and credit notes."""

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "invoices"]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and request.user.has_perm("billing.view_invoice"):
            fieldsets.append(("Invoices", {"fields": ["invoices"]}))
        return fieldsets

    @admin.display(description="Latest invoices")
    def invoices(self, obj: Client) -> str:
        """The client's newest invoices and credit notes, and a link to all of them.

        A read-only field, not an inline: an inline would bring every invoice ever issued into
        the client's form. One query, whatever the number.
        """
        newest = list(
            Invoice.objects.filter(client=obj)
            .select_related("credits")
            .order_by("-issued_at", "-pk")[: CLIENT_INVOICES + 1]
        )
        everything = reverse("admin:billing_invoice_changelist")
        return render_to_string(
            "admin/billing/client_invoices.html",
            {
                "invoices": newest[:CLIENT_INVOICES],
                "more": len(newest) > CLIENT_INVOICES,
                "all_url": f"{everything}?{urlencode({'client__id__exact': obj.pk})}",
            },
        )


admin.site.unregister(Client)
admin.site.register(Client, BillingClientAdmin)
