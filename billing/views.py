"""The manager's billing pages: a month's runs and drafts, issuing and the exports. Thin views:
forms validate, the billing services write, every state change is a POST, and a BillingError
becomes a message."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from billing.exports import export_invoices, exports_pending
from billing.forms import (
    ExportForm,
    IssueForm,
    PeriodPickerForm,
)
from billing.invoicing import draft_totals, drafts, invoices_issue
from billing.models import BillingRun, ExportFormat, Invoice, RunTrigger
from billing.periods import Period, PeriodError
from billing.run import billing_run
from billing.services import BillingError, period_refusal
from billing.staff import MANAGE_BILLING
from clients.models import ChargeKind
from clients.money import ZERO, money

manages_billing = permission_required(MANAGE_BILLING, raise_exception=True)

DRAFTS_PER_PAGE = 100
RUNS_SHOWN = 20


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
        messages.info(
            request,
            f"Nothing new to post for {chosen.label}: every contract that covers it is "
            "billed already.",
        )
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
