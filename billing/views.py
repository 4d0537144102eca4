"""The manager's billing pages: a month's runs and drafts, issuing, the issued list, each invoice
as a printable page, credit notes and the exports. Thin views: forms validate, the billing
services write, every state change is a POST, and a BillingError becomes a message."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from billing.exports import export_invoices, exports_pending
from billing.forms import (
    CreditNoteForm,
    ExportForm,
    InvoiceFilterForm,
    IssueForm,
    PeriodPickerForm,
)
from billing.invoicing import credit_note_issue, draft_totals, drafts, invoices_issue
from billing.models import BillingRun, ExportFormat, Invoice, InvoiceLine, RunTrigger
from billing.periods import Period, PeriodError
from billing.run import billing_run
from billing.services import BillingError, period_refusal
from billing.staff import MANAGE_BILLING
from clients.models import ChargeKind
from clients.money import ZERO, cents, money

manages_billing = permission_required(MANAGE_BILLING, raise_exception=True)

DRAFTS_PER_PAGE = 100
INVOICES_PER_PAGE = 50
RUNS_SHOWN = 20
UNPROCESSABLE = 422


class BillingRequest(HttpRequest):
    """What a request looks like behind the login wall and the permission check."""

    user: User


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- A month: its runs, its drafts, issuing and exports ---------------------------------------
def _billable_period(request: HttpRequest, text: str) -> Period | None:
    """The month named in the URL if it can be billed; else None, and the reason as a message."""
    try:
        period = Period.parse(text)
    except PeriodError as exc:
        messages.error(request, str(exc))
        return None
    refusal = period_refusal(period)
    if refusal:
        messages.error(request, refusal)
        return None
    return period


@require_GET
@manages_billing
def index(request: BillingRequest) -> HttpResponse:
    """The last month that has ended, or the month the picker asks for."""
    if "period" in request.GET:
        form = PeriodPickerForm(request.GET, latest=Period.last_closed())
        if form.is_valid():
            return redirect("billing:period", period=str(form.cleaned_data["period"]))
        messages.error(request, " ".join(str(e) for e in form.errors["period"]))
    return redirect("billing:period", period=str(Period.last_closed()))


@dataclass(frozen=True)
class DraftLine:
    """A draft as the table shows it: its amounts in the order of the columns."""

    client_id: int
    client_name: str
    amounts: list[Decimal]
    total: Decimal


COLUMNS = ChargeKind.choices  # fee, overage, labour, paid priority, other
FIRST_MONTH = Period(1, 1)  # the calendar has no month before it


@require_GET
@manages_billing
def period_page(request: BillingRequest, period: str) -> HttpResponse:
    chosen = _billable_period(request, period)
    if chosen is None:
        return redirect("billing:index")
    summary = draft_totals(chosen)
    paginator = Paginator(range(summary.clients), DRAFTS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = []
    if summary.clients:
        rows = [
            DraftLine(
                client_id=d.client_id,
                client_name=d.client_name,
                amounts=[d.totals.get(kind, ZERO) for kind, _ in COLUMNS],
                total=d.total,
            )
            for d in drafts(chosen, offset=page.start_index() - 1, limit=DRAFTS_PER_PAGE)
        ]
    latest = Period.last_closed()
    context = {
        "period": chosen,
        "previous": chosen.previous if chosen > FIRST_MONTH else None,
        "next": chosen.next if chosen.next <= latest else None,
        "picker": PeriodPickerForm(initial={"period": str(chosen)}, latest=latest),
        "runs": BillingRun.objects.filter(period=chosen.first_day)
        .select_related("triggered_by")
        .order_by("-started_at", "-pk")[:RUNS_SHOWN],
        "columns": [label for _, label in COLUMNS],
        "rows": rows,
        "page": page,
        "summary": summary,
        "grand": [summary.totals[kind] for kind, _ in COLUMNS],
        "issued": Invoice.objects.invoices().for_period(chosen).count(),
        "export_form": ExportForm(period=chosen, pending=exports_pending(chosen)),
    }
    return render(request, "billing/period.html", context)


def _back_to(period: Period) -> HttpResponse:
    return redirect("billing:period", period=str(period))


@require_POST
@manages_billing
def run(request: BillingRequest, period: str) -> HttpResponse:
    chosen = _billable_period(request, period)
    if chosen is None:
        return redirect("billing:index")
    try:
        result = billing_run(period=chosen, trigger=RunTrigger.MANUAL, by=request.user)
    except BillingError as exc:
        messages.error(request, f"Nothing was posted. {exc}")
        return _back_to(chosen)
    if result.contracts:
        messages.success(
            request,
            f"Posted {_plural(result.contracts, 'contract fee')} for {chosen.label}: "
            f"fees {money(result.fees)}, overage {money(result.overage)}.",
        )
    else:
        messages.info(request, result.summary)
    return _back_to(chosen)


@require_POST
@manages_billing
def issue(request: BillingRequest, period: str) -> HttpResponse:
    chosen = _billable_period(request, period)
    if chosen is None:
        return redirect("billing:index")
    form = IssueForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was issued: that is not a client of this page.")
        return _back_to(chosen)
    client = form.cleaned_data["client"]
    try:
        count = invoices_issue(
            period=chosen, by=request.user, client_ids=None if client is None else [client]
        )
    except BillingError as exc:
        messages.error(request, f"Nothing was issued. {exc}")
    else:
        if count:
            messages.success(request, f"Issued {_plural(count, 'invoice')} for {chosen.label}.")
        else:
            messages.info(request, f"Nothing to invoice for {chosen.label}: no charge is waiting.")
    return _back_to(chosen)


@require_POST
@manages_billing
def export(request: BillingRequest, period: str, export_format: str) -> HttpResponse:
    if export_format not in ExportFormat.values:
        raise Http404("No such export format.")
    # A month still running would be exported half-issued and marked: refused, like the run.
    chosen = _billable_period(request, period)
    if chosen is None:
        return redirect("billing:index")
    form = ExportForm(request.POST, period=chosen, pending={})
    include_exported = form.is_valid() and form.cleaned_data["include_exported"]
    try:
        exported = export_invoices(
            period=chosen, export_format=export_format, include_exported=include_exported
        )
    except BillingError as exc:
        messages.error(request, f"Nothing was exported. {exc}")
        return _back_to(chosen)
    if not exported.invoices:
        label = ExportFormat(export_format).label
        messages.info(
            request,
            f"Nothing to export for {chosen.label}: no invoice of the month is waiting for "
            f"{label}. Tick “include invoices already exported” to download them again.",
        )
        return _back_to(chosen)
    response = HttpResponse(exported.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, exported.filename) or ""
    return response


# --- The issued list --------------------------------------------------------------------------
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Cursor:
    """A place in the issued list: an invoice's (issued_at, id), the list's indexed order."""

    issued_at: dt.datetime
    pk: int

    def encode(self) -> str:
        # Integer microseconds, not float seconds: the cursor must match the stored value exactly.
        return f"{(self.issued_at - EPOCH) // dt.timedelta(microseconds=1)}.{self.pk}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Read a cursor from a page link; raise ValueError for anything else."""
        micros, _, pk = text.partition(".")
        if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()):
            raise ValueError(text)
        if len(micros) > 17 or len(pk) > 18:
            raise ValueError(text)
        return cls(EPOCH + dt.timedelta(microseconds=int(micros)), int(pk))

    @classmethod
    def of(cls, invoice: Invoice) -> Cursor:
        return cls(invoice.issued_at, invoice.pk)


def _issued(filters: dict[str, Any]) -> QuerySet[Invoice]:
    invoices = Invoice.objects.select_related("credits").with_credited()
    if period := filters.get("period"):
        invoices = invoices.for_period(period)
    if kind := filters.get("kind"):
        invoices = invoices.filter(kind=kind)
    if q := filters.get("q"):
        invoices = invoices.search(q)
    if exported := filters.get("exported"):
        invoices = invoices.exported_to(
            exported.removeprefix("not-"), exported=not exported.startswith("not-")
        )
    return invoices


@require_GET
@manages_billing
def invoice_list(request: BillingRequest) -> HttpResponse:
    form = InvoiceFilterForm(request.GET or None)
    invoices = _issued(form.filters())
    after = before = None
    try:
        if raw := request.GET.get("after"):
            after = Cursor.decode(raw)
        elif raw := request.GET.get("before"):
            before = Cursor.decode(raw)
    except ValueError:
        messages.error(request, "That page link is broken; showing the newest invoices.")
    # Keyset pages on the (-issued_at, -id) index: no OFFSET, no count of the whole list, one
    # query whatever its length. One row more than a page says whether another page follows.
    if before is not None:
        newer = Q(issued_at__gt=before.issued_at) | Q(issued_at=before.issued_at, pk__gt=before.pk)
        rows = list(invoices.filter(newer).order_by("issued_at", "pk")[: INVOICES_PER_PAGE + 1])
        more_newer, rows = len(rows) > INVOICES_PER_PAGE, rows[:INVOICES_PER_PAGE][::-1]
        more_older = True
    else:
        if after is not None:
            older = Q(issued_at__lt=after.issued_at) | Q(issued_at=after.issued_at, pk__lt=after.pk)
            invoices = invoices.filter(older)
        rows = list(invoices.order_by("-issued_at", "-pk")[: INVOICES_PER_PAGE + 1])
        more_older, rows = len(rows) > INVOICES_PER_PAGE, rows[:INVOICES_PER_PAGE]
        more_newer = after is not None
    context = {
        "form": form,
        "invoices": rows,
        "query": form.query_string(),
        "older": Cursor.of(rows[-1]).encode() if rows and more_older else None,
        "newer": Cursor.of(rows[0]).encode() if rows and more_newer else None,
    }
    return render(request, "billing/invoice_list.html", context)


# --- One invoice ------------------------------------------------------------------------------
def _get_invoice(ref: str) -> Invoice:
    """Fetch an invoice (or credit note) by its number, or by its id; 404 if unknown."""
    invoices = Invoice.objects.select_related("credits", "issued_by")
    if ref.isascii() and ref.isdigit() and len(ref) <= 18:
        return get_object_or_404(invoices, pk=int(ref))
    return get_object_or_404(invoices, number=ref)


@dataclass(frozen=True)
class ShownLine:
    line: InvoiceLine
    credit: InvoiceLine | None  # the credit note line that reversed it, if any


def _invoice_page(
    request: BillingRequest,
    invoice: Invoice,
    *,
    form: CreditNoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    lines = [
        ShownLine(line=line, credit=getattr(line, "credit", None))
        for line in invoice.lines.select_related("credit__invoice", "credited_line").order_by(
            "position"
        )
    ]
    credit_notes = [] if invoice.is_credit_note else list(invoice.credit_notes.order_by("pk"))
    open_lines = [shown.line for shown in lines if shown.credit is None]
    if form is None and open_lines and not invoice.is_credit_note:
        form = CreditNoteForm(invoice=invoice, open_lines=open_lines)
    context = {
        "invoice": invoice,
        "lines": lines,
        "credit_notes": credit_notes,
        "balance": cents(invoice.total + sum((n.total for n in credit_notes), ZERO)),
        "practice_name": settings.PRACTICE_NAME,
        "credit_form": form,
        "overdue": invoice.is_overdue(timezone.localdate()),
    }
    return render(request, "billing/invoice.html", context, status=status)


@require_GET
@manages_billing
def invoice_detail(request: BillingRequest, ref: str) -> HttpResponse:
    return _invoice_page(request, _get_invoice(ref))


@require_POST
@manages_billing
def credit(request: BillingRequest, ref: str) -> HttpResponse:
    invoice = _get_invoice(ref)
    open_lines = list(
        InvoiceLine.objects.filter(invoice=invoice).not_credited().order_by("position")
    )
    form = CreditNoteForm(request.POST, invoice=invoice, open_lines=open_lines)
    if form.is_valid():
        try:
            note = credit_note_issue(
                invoice=invoice,
                line_ids=form.line_ids(),
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except BillingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Credit note {note.number} issued: {money(-note.total)} off {invoice.number}.",
            )
            return redirect("billing:invoice", ref=note.number)
    reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
    messages.error(request, f"No credit note was issued. {reasons}")
    return _invoice_page(request, invoice, form=form, status=UNPROCESSABLE)
