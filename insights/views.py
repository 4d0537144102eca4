"""The manager's report pages. Thin views: the window form validates, insights.sections builds
the figures (SQL aggregates, a fixed number of queries), the templates draw them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from clients.outbox import outbox_trouble
from insights import promises
from insights.sections import SECTIONS, build_all, build_one
from insights.staff import VIEW_INSIGHTS
from insights.window import Window, WindowForm

views_insights = permission_required(VIEW_INSIGHTS, raise_exception=True)


def _window(request: HttpRequest) -> tuple[WindowForm, Window, list[str]]:
    """The window the query string asks for; for a bad one, the default window and why."""
    form = WindowForm(request.GET or None, action=reverse("insights:dashboard"))
    if not request.GET:
        return form, Window.default(), []
    if form.is_valid():
        return form, form.window(), []
    return form, Window.default(), [str(e) for errors in form.errors.values() for e in errors]


@require_GET
@views_insights
def dashboard(request: HttpRequest) -> HttpResponse:
    form, window, errors = _window(request)
    for error in errors:
        messages.error(request, f"{error} Showing the last {window.months} months instead.")
    now = timezone.now()
    sections = build_all(window, now)
    context = {"form": form, "window": window, "sections": sections}
    if request.user.has_perm("clients.view_outboundemail"):
        # Emails no server would take, and emails stuck (the broker or the mail server down):
        # the manager hears of them here, with a link to the outbox.
        context["emails"] = outbox_trouble(now)
    return render(request, "insights/dashboard.html", context, status=400 if errors else 200)


@require_GET
@views_insights
def table_csv(request: HttpRequest, section: str, table: str) -> HttpResponse:
    """One table of the dashboard, for the window asked for, as CSV."""
    if section not in SECTIONS:
        raise Http404("No such section.")
    _, window, errors = _window(request)
    if errors:
        return HttpResponse(
            "\n".join(errors) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    built = build_one(section, window, timezone.now())
    found = built.table(table) if built is not None else None
    if found is None:
        raise Http404("No such table.")
    response = HttpResponse(found.csv(), content_type="text/csv; charset=utf-8")
    filename = f"{section}-{table}-{window.first}-{window.last}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    return response


@require_GET
@views_insights
def sla_missed(request: HttpRequest) -> HttpResponse:
    """The contract tickets behind a "late" figure of Promises kept, a page at a time."""
    form = promises.MissedForm(request.GET, action=request.path)
    if not form.is_valid():
        reasons = [str(e) for errors in form.errors.values() for e in errors]
        return render(request, "insights/missed.html", {"reasons": reasons}, status=400)
    now, window, asked = timezone.now(), form.window(), form.cleaned_data
    target = promises.TARGETS[asked["target"]]
    tickets = promises.missed_tickets(
        target=target,
        days=asked["days"],
        ends=window.ends_at(now),
        now=now,
        plan=asked["plan"],
        priority=asked["priority"],
    )
    page = Paginator(tickets, 50).get_page(asked["page"])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": promises.missed_rows(page, target, now),
        "target": target,
        "asked": asked,
        "window": window,
        "ends": window.ends_at(now),
        "query": query.urlencode(),
    }
    return render(request, "insights/missed.html", context)
