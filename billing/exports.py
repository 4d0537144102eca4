"""Issued invoices as CSV files for accounting software: Xero's sales-invoice import and
QuickBooks Online's invoice import. The layouts, their sources and what to check on a first real
import are in docs/billing-exports.md.

One row per invoice line, invoice-level fields repeated on each row (both importers group rows by
invoice number). An export marks what it wrote as exported in that format, in the transaction
that chose it, so a repeated export holds nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from billing.models import ExportFormat, Invoice, InvoiceKind, InvoiceLine, RateCard
from billing.periods import Period
from billing.pricing import priced_as
from clients.money import cents

# Both products read dates in the organisation's region format; the practice is in the US. A
# practice whose Xero organisation is set up elsewhere (UK, AU, NZ) would change this to
# "%d/%m/%Y" (docs/billing-exports.md).
DATE_FORMAT = "%m/%d/%Y"

# Xero, Sales > Invoices > Import > "Download template file" (SalesInvoiceTemplate.csv); the
# asterisks are part of the names. Xero asks that no column be removed or renamed.
XERO_HEADER = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)

# QuickBooks Online, Settings > Import data > Invoices: the sample file's names for a US company
# without sales tax, which the mapping step recognises by itself.
QUICKBOOKS_HEADER = (
    "*InvoiceNo",
    "*Customer",
    "*InvoiceDate",
    "*DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "*ItemAmount",
    "Service Date",
)

# What each product recommends as the most a single import file should hold (rows, invoices).
IMPORT_LIMITS: dict[str, tuple[int, int | None]] = {
    ExportFormat.XERO: (500, None),
    ExportFormat.QUICKBOOKS: (1000, 100),
}

# A spreadsheet opening the file would run a cell beginning with one of these as a formula
# (OWASP "CSV injection"); a client's name or a description could begin with one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")

# Invoices whose marks are set per UPDATE: the ids go in the statement, and SQLite caps them.
MARK_BATCH = 1000


@dataclass(frozen=True)
class InvoiceExport:
    """One export file and what is in it."""

    filename: str  # e.g. "xero-invoices-2026-11.csv"
    content: str  # the CSV text
    invoices: int  # invoices (and, for Xero, credit notes) in the file
    rows: int  # data rows: one per invoice line
    left_out: int = 0  # credit notes of the period the format cannot take (QuickBooks Online)


def export_invoices(
    *, period: Period, export_format: str, include_exported: bool = False
) -> InvoiceExport:
    """Write the invoices issued in `period` as a CSV file for `export_format`, and mark them.

    By default only invoices not yet exported in that format; `include_exported` writes the whole
    period again (marks already set keep the time of the first export). Raises ValueError for a
    format we do not know. Callers refuse a period that has not ended (the command does).
    """
    layout = _layout(export_format)
    mark = Invoice.EXPORT_MARKS[layout.format]
    card = RateCard.load()
    period_invoices = Invoice.objects.for_period(period)
    if not layout.takes_credit_notes:
        period_invoices = period_invoices.invoices()
    chosen = period_invoices if include_exported else period_invoices.filter(**{mark: None})
    with transaction.atomic():
        # Locked to commit: an export running at the same time waits here, then (PostgreSQL
        # re-reads the rows it waited for) finds them marked and leaves them out.
        invoices = list(
            chosen.select_related("credits").select_for_update(of=("self",)).order_by("number")
        )
        lines = _lines_by_invoice(chosen)
        buffer = io.StringIO()
        writer = csv.writer(buffer)  # RFC 4180: minimal quoting, "\r\n" after each row
        writer.writerow(layout.header)
        rows = 0
        for invoice in invoices:
            for line in lines[invoice.pk]:
                writer.writerow(layout.row(invoice, line, card))
                rows += 1
        _mark(invoices, mark)
    left_out = 0 if layout.takes_credit_notes else _credit_notes(period).count()
    return InvoiceExport(
        filename=f"{layout.format}-invoices-{period}.csv",
        content=buffer.getvalue(),
        invoices=len(invoices),
        rows=rows,
        left_out=left_out,
    )


def exports_pending(period: Period) -> dict[str, int]:
    """Per format, how many invoices issued in `period` an export would write now; and under
    "credit_notes", the month's credit notes (QuickBooks takes them by hand)."""
    counts = Invoice.objects.for_period(period).aggregate(
        credit_notes=Count("pk", filter=Q(kind=InvoiceKind.CREDIT_NOTE)),
        **{
            layout.format.value: Count("pk", filter=_pending(layout)) for layout in LAYOUTS.values()
        },
    )
    return {name: counts[name] for name in [*LAYOUTS, "credit_notes"]}


def _pending(layout: Layout) -> Q:
    pending = Q(**{Invoice.EXPORT_MARKS[layout.format]: None})
    if not layout.takes_credit_notes:
        pending &= Q(kind=InvoiceKind.INVOICE)
    return pending


def _credit_notes(period: Period) -> QuerySet[Invoice]:
    return Invoice.objects.for_period(period).filter(kind=InvoiceKind.CREDIT_NOTE)


def _lines_by_invoice(chosen: QuerySet[Invoice]) -> dict[int, list[InvoiceLine]]:
    # A subquery rather than the ids: a month can hold thousands of invoices. An invoice issued
    # between the two queries brings lines the file does not use.
    lines: dict[int, list[InvoiceLine]] = defaultdict(list)
    for line in InvoiceLine.objects.filter(invoice__in=chosen.values("pk")).order_by(
        "invoice_id", "position"
    ):
        lines[line.invoice_id].append(line)
    return lines


def _mark(invoices: Sequence[Invoice], mark: str) -> None:
    # A queryset update: Invoice.save() refuses to touch an issued invoice. Marks already set
    # (an export with include_exported) keep the time of the first export.
    now = timezone.now()
    ids = [invoice.pk for invoice in invoices]
    for start in range(0, len(ids), MARK_BATCH):
        Invoice.objects.filter(pk__in=ids[start : start + MARK_BATCH], **{mark: None}).update(
            **{mark: now}
        )


# --- The layouts ------------------------------------------------------------------------------
def _date(day: dt.date) -> str:
    return day.strftime(DATE_FORMAT)


def _amount(value: Decimal) -> str:
    # A plain decimal with two places and no currency sign ("-93.75"), rounded by clients.money.
    return str(cents(value))


def _text(value: str) -> str:
    """A cell of free text: on one line, and never read as a formula by a spreadsheet."""
    # Line breaks only: a client's name must reach the importer as it is (Xero matches contacts
    # by name), other spacing included.
    text = LINE_BREAKS.sub(" ", value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _xero_row(invoice: Invoice, line: InvoiceLine, card: RateCard) -> list[str]:
    quantity, unit_amount, description = priced_as(
        line.quantity, line.unit_amount, line.amount, line.description
    )
    # A credit note goes out as a document with a negative total (positive quantity, negative
    # unit amount): Xero imports it as a credit note. Its Reference names the invoice it credits,
    # which Xero cannot link by import; someone allocates it there.
    reference = invoice.credits.number if invoice.credits else invoice.billing_period.label
    return [
        _text(invoice.bill_to),
        _text(invoice.bill_to_email),
        *[""] * 8,  # postal address: the CRM keeps none; Xero keeps the contact's own
        invoice.number,
        _text(reference),
        _date(timezone.localdate(invoice.issued_at)),
        _date(invoice.due_on),
        "",  # Total: Xero adds it up from the lines
        "",  # InventoryItemCode
        _text(description),
        str(quantity),
        _amount(unit_amount),
        "",  # Discount
        _text(card.sales_account_code),
        _text(card.tax_type),
        "",  # TaxAmount: Xero works it out from TaxType
        *[""] * 4,  # tracking categories
        "",  # Currency: the organisation's base currency (the CRM has no currency setting)
        "",  # BrandingTheme: the organisation's default
    ]


def _quickbooks_row(invoice: Invoice, line: InvoiceLine, card: RateCard) -> list[str]:
    quantity, unit_amount, description = priced_as(
        line.quantity, line.unit_amount, line.amount, line.description
    )
    return [
        invoice.number,
        _text(invoice.bill_to),
        _date(timezone.localdate(invoice.issued_at)),
        _date(invoice.due_on),
        "",  # Terms: the due date is given; a term name QuickBooks does not know is refused
        "",  # Location: only with location tracking on
        _text(invoice.billing_period.label),
        "",  # Item: QuickBooks uses its generic "Sales" item
        _text(description),
        str(quantity),
        _amount(unit_amount),
        _amount(line.amount),
        _date(line.service_date),
    ]


@dataclass(frozen=True)
class Layout:
    format: ExportFormat
    header: tuple[str, ...]
    row: Callable[[Invoice, InvoiceLine, RateCard], list[str]]
    # QuickBooks Online's invoice import refuses negative lines, so credit notes are entered
    # there by hand; Xero imports a negative document as a credit note.
    takes_credit_notes: bool


LAYOUTS = {
    ExportFormat.XERO.value: Layout(ExportFormat.XERO, XERO_HEADER, _xero_row, True),
    ExportFormat.QUICKBOOKS.value: Layout(
        ExportFormat.QUICKBOOKS, QUICKBOOKS_HEADER, _quickbooks_row, False
    ),
}


def _layout(export_format: str) -> Layout:
    try:
        return LAYOUTS[export_format]
    except KeyError:
        known = " or ".join(LAYOUTS)
        raise ValueError(
            f"{str(export_format)[:30]!r} is not an export format; choose {known}."
        ) from None
