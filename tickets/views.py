"""The consultant workspace: queue, take next, opening tickets, ticket work. Thin views: forms
validate, services write, every state change is a POST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from billing.models import RateCard
from clients.models import Client
from clients.money import money
from clients.people import staff_name
from contracts.staff import MANAGE_CONTRACTS
from offers.models import ConversionOffer
from tickets import services
from tickets.forms import (
    AssignForm,
    NoteForm,
    QueueFilterForm,
    ReplyForm,
    StatusForm,
    TicketOpenForm,
    TimeForm,
    clients_with_contract_flag,
    parse_id,
)
from tickets.models import Ticket
from tickets.queue import Cursor, queue_page
from tickets.services import TicketError
from tickets.staff import WORK_TICKETS, consultants
from tickets.workload import my_work

works_tickets = permission_required(WORK_TICKETS, raise_exception=True)


class WorkspaceRequest(HttpRequest):
    """What a request looks like behind the login wall and the permission check."""

    user: User
    htmx: HtmxDetails


UNPROCESSABLE = 422


@require_GET
@works_tickets
def queue(request: WorkspaceRequest) -> HttpResponse:
    people = list(consultants())
    form = QueueFilterForm(request.GET or None, people=people)
    if form.is_bound:
        form.is_valid()
    after = None
    if raw := request.GET.get("after"):
        try:
            after = Cursor.decode(raw)
        except ValueError:
            messages.error(request, "That page link is broken; showing the start of the queue.")
    filters = form.filters()
    page = queue_page(filters, request.user, after)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "query": form.query_string(),
        "after": after,
    }
    template = "tickets/queue.html"
    # htmx restoring a page from history (back button) needs the whole page, not a fragment.
    if request.htmx and not request.htmx.history_restore_request:
        # Live refresh swaps the table body; "show more" appends rows after the last one.
        template += "#more-rows" if after else "#queue-table"
    else:
        # Whose tickets these are, when the client page sent us (one query, on whole pages).
        if filters.client is not None:
            context["one_client"] = Client.objects.filter(pk=filters.client).first()
        # The panel above the queue: two aggregates, on whole pages only (not every refresh).
        context["my"] = my_work(request.user, timezone.now())
    response = render(request, template, context)
    # One URL, three answers (the page, a fragment, the page again for a history restore): a
    # cache must key them apart.
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


@require_POST
@works_tickets
def take_next(request: WorkspaceRequest) -> HttpResponse:
    ticket = services.ticket_take_next(consultant=request.user)
    if ticket is None:
        messages.info(request, "Nobody is waiting: every ticket in line is taken.")
        return redirect("tickets:queue")
    messages.success(request, f"You took #{ticket.pk}: {ticket.subject}")
    return redirect("tickets:detail", pk=ticket.pk)


@require_http_methods(["GET", "POST"])
@works_tickets
def ticket_new(request: WorkspaceRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    if client_id := parse_id(request.GET.get("client", "")):
        initial["client"] = client_id
    # A manager may open a ticket for a dropped client, ticking the override; a consultant is
    # told the client was dropped.
    manager = request.user.has_perm(MANAGE_CONTRACTS)
    form = TicketOpenForm(request.POST or None, initial=initial, may_override_drop=manager)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        submission = data["submission"]
        repeat = Ticket.objects.filter(submission=submission, client=data["client"])
        if submission and (first := repeat.first()):
            # The same form again (a double click, a retry after an error): its first ticket.
            messages.info(request, f"That form opened ticket #{first.pk} already; here it is.")
            return redirect("tickets:detail", pk=first.pk)
        try:
            ticket = services.ticket_open(
                client=data["client"],
                contact=data["contact"],
                subject=data["subject"],
                description=data["description"],
                priority=data["priority"],
                paid_priority=data["paid_priority"],
                opened_by=request.user,
                override_drop=manager and bool(data.get("override_drop")),
                submission=submission,
            )
        except TicketError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Ticket #{ticket.pk} opened.")
            return redirect("tickets:detail", pk=ticket.pk)
    status = UNPROCESSABLE if request.method == "POST" else 200
    context = {"form": form, "chosen": form.chosen_client}
    return render(request, "tickets/ticket_new.html", context, status=status)


@require_GET
@works_tickets
def client_lookup(request: WorkspaceRequest) -> HttpResponse:
    """htmx autocomplete: up to ten active clients whose name or contact matches (dropped ones
    too for a manager, who may override the drop)."""
    # NUL cannot reach PostgreSQL in a string literal; nobody types it in a name anyway.
    term = " ".join(request.GET.get("q", "").replace("\x00", "").split())[:100]
    results = []
    if len(term) >= 2:
        results = list(
            clients_with_contract_flag(with_dropped=request.user.has_perm(MANAGE_CONTRACTS))
            .filter(Q(name__icontains=term) | Q(contacts__email__icontains=term))
            .distinct()
            .order_by("name")[:10]
        )
    return render(
        request, "tickets/_client_picker.html#client-results", {"results": results, "term": term}
    )


@require_GET
@works_tickets
def client_contacts(request: WorkspaceRequest) -> HttpResponse:
    """htmx: the contact options of the new-ticket form for the client just picked."""
    form = TicketOpenForm(initial={"client": request.GET.get("client")})
    return render(request, "tickets/ticket_new.html#contact-options", {"form": form})


# --- One ticket ------------------------------------------------------------------------------
def _get_ticket(pk: int) -> Ticket:
    """Fetch a ticket with what its page shows; 404 if unknown. Every consultant may work any ticket."""
    return get_object_or_404(
        Ticket.objects.select_related(
            "client", "contact", "assignee", "contract__plan", "priority_charge"
        ),
        pk=pk,
    )


def _detail(
    request: WorkspaceRequest, ticket: Ticket, *, status: int = 200, **forms: Form
) -> HttpResponse:
    people = consultants()
    context = {
        "ticket": ticket,
        "events": ticket.events.select_related("actor").order_by("created_at", "id"),
        "time_entries": ticket.time_entries.select_related("consultant", "charge").order_by(
            "-work_date", "-id"
        ),
        "status_form": forms.get("status_form") or StatusForm(ticket=ticket),
        "reply_form": forms.get("reply_form") or ReplyForm(ticket=ticket),
        "note_form": forms.get("note_form") or NoteForm(ticket=ticket),
        "assign_form": forms.get("assign_form")
        or AssignForm(ticket=ticket, people=people, initial={"assignee": ticket.assignee_id}),
        "time_form": forms.get("time_form") or TimeForm(ticket=ticket),
        "surcharge": RateCard.load().paid_priority_surcharge,
        # A break-fix client with a contract offer in its inbox: worth a word from whoever
        # answers it (one query, and only for transactional tickets).
        "open_offer": None
        if ticket.is_contract_ticket
        else ConversionOffer.objects.in_inbox(timezone.now())
        .for_client(ticket.client_id)
        .select_related("plan")
        .first(),
    }
    return render(request, "tickets/ticket_detail.html", context, status=status)


@require_GET
@works_tickets
def ticket_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    return _detail(request, _get_ticket(pk))


def _act(
    request: WorkspaceRequest,
    ticket: Ticket,
    form: Form,
    form_name: str,
    action: Callable[[Ticket, dict[str, Any]], str],
) -> HttpResponse:
    """Validate `form`, run the service through `action`, redirect; re-show the page on error."""
    if form.is_valid():
        try:
            done = action(ticket, form.cleaned_data)
        except TicketError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, done)
            return redirect("tickets:detail", pk=ticket.pk)
    # Said at the top of the page too: on a closed ticket the form itself is not shown.
    reasons = " ".join(str(e) for errors in form.errors.values() for e in errors)
    messages.error(request, f"Nothing was changed. {reasons}")
    return _detail(request, ticket, status=UNPROCESSABLE, **{form_name: form})


@require_POST
@works_tickets
def ticket_status(request: WorkspaceRequest, pk: int) -> HttpResponse:
    ticket = _get_ticket(pk)

    def change(t: Ticket, data: dict[str, Any]) -> str:
        updated = services.ticket_change_status(
            ticket=t, status=data["status"], actor=request.user, note=data["note"]
        )
        return f"Status is now {updated.get_status_display().lower()}."

    return _act(request, ticket, StatusForm(request.POST, ticket=ticket), "status_form", change)


@require_POST
@works_tickets
def ticket_reply_view(request: WorkspaceRequest, pk: int) -> HttpResponse:
    def reply(t: Ticket, data: dict[str, Any]) -> str:
        services.ticket_reply(
            ticket=t, body=data["body"], actor=request.user, wait_on_client=data["wait_on_client"]
        )
        return f"Reply sent to {t.contact.email if t.contact else 'the client'}."

    ticket = _get_ticket(pk)
    return _act(request, ticket, ReplyForm(request.POST, ticket=ticket), "reply_form", reply)


@require_POST
@works_tickets
def ticket_note(request: WorkspaceRequest, pk: int) -> HttpResponse:
    def note(t: Ticket, data: dict[str, Any]) -> str:
        services.ticket_add_note(ticket=t, body=data["body"], actor=request.user)
        return "Note added."

    ticket = _get_ticket(pk)
    return _act(request, ticket, NoteForm(request.POST, ticket=ticket), "note_form", note)


@require_POST
@works_tickets
def ticket_assign_view(request: WorkspaceRequest, pk: int) -> HttpResponse:
    def assign(t: Ticket, data: dict[str, Any]) -> str:
        person = data["assignee"]
        services.ticket_assign(ticket=t, assignee=person, actor=request.user)
        return f"Assigned to {staff_name(person)}." if person else "Unassigned."

    ticket = _get_ticket(pk)
    form = AssignForm(request.POST, ticket=ticket, people=consultants())
    return _act(request, ticket, form, "assign_form", assign)


@require_POST
@works_tickets
def ticket_time(request: WorkspaceRequest, pk: int) -> HttpResponse:
    def log(t: Ticket, data: dict[str, Any]) -> str:
        entry = services.time_log(
            ticket=t,
            consultant=request.user,
            minutes=data["minutes"],
            work_date=data["work_date"],
            note=data["note"],
            after_hours=data["after_hours"],
        )
        parts = [f"{entry.minutes} min logged"]
        if entry.covered_minutes:
            parts.append(f"{entry.covered_minutes} covered by the contract")
        if entry.charge:
            parts.append(f"{money(entry.charge.amount)} billed")
        elif entry.billable_minutes and entry.contract_id:
            parts.append(f"{entry.billable_minutes} overage, billed with the month")
        return ", ".join(parts) + "."

    ticket = _get_ticket(pk)
    return _act(request, ticket, TimeForm(request.POST, ticket=ticket), "time_form", log)


@require_POST
@works_tickets
def ticket_priority(request: WorkspaceRequest, pk: int) -> HttpResponse:
    def buy(t: Ticket, data: dict[str, Any]) -> str:
        bought = services.ticket_buy_priority(ticket=t, actor=request.user)
        surcharge = money(bought.priority_charge.amount if bought.priority_charge else None)
        return f"Paid priority added: {surcharge} charged to {t.client}."

    return _act(request, _get_ticket(pk), Form(request.POST), "priority_form", buy)
