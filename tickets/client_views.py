"""The client pages of the workspace (issue 16): the list, one client's page, its tables as CSV,
and the manager's actions on it. Thin views: tickets.client_list and tickets.client_page read
(a fixed number of queries), the forms validate, the clients, contracts and offers services
write; every change is a POST behind a confirmation page, and a refusal is a message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from billing.staff import MANAGE_BILLING
from clients.ids import parse_id
from clients.models import Client
from clients.money import money
from clients.services import ClientError, client_reinstate
from clients.staff import DROP_CLIENTS
from contracts.forms import CancelForm, RenewForm, form_errors
from contracts.models import ServiceContract
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_cancel,
    contract_renew,
)
from contracts.staff import MANAGE_CONTRACTS
from offers.models import ConversionOffer
from offers.outlook import campaign_outlook
from offers.services import OfferError, offer_send_now
from offers.staff import SEND_OFFERS
from tickets.client_forms import (
    ClientDropForm,
    ClientFilterForm,
    ClientReinstateForm,
    OfferNowForm,
)
from tickets.client_list import client_list
from tickets.client_page import (
    client_page,
    client_terms,
    clients_with_open_tickets,
    contract_hours,
    hours_table,
    minutes_worked,
    money_year,
    six_months,
)
from tickets.views import UNPROCESSABLE, WorkspaceRequest, works_tickets


@require_GET
@works_tickets
def clients(request: WorkspaceRequest) -> HttpResponse:
    form = ClientFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()
    after = parse_id(raw) if (raw := request.GET.get("after")) else None
    if raw and after is None:
        messages.error(request, "That page link is broken; showing the start of the list.")
    page = client_list(form.filters(), timezone.now(), after)
    context = {"form": form, "page": page, "query": form.query_string(), "after": after}
    template = "tickets/client_list.html"
    # As the queue: a fragment for htmx (the table as you type, or the next rows), the whole
    # page for anything else, a history restore included.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#more-rows" if after else "#client-table"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-History-Restore-Request"])
    return response


def _get_client(pk: int) -> Client:
    """The client, with its open tickets counted; 404 if unknown. Every member of staff who
    works tickets may open any client."""
    return get_object_or_404(clients_with_open_tickets(), pk=pk)


@require_GET
@works_tickets
def client_detail(request: WorkspaceRequest, pk: int) -> HttpResponse:
    client = _get_client(pk)
    page = client_page(client, request.user)
    context = {
        "page": page,
        "client": client,
        # The manager's buttons (a consultant holds none of their permissions).
        "actions": [
            (a, a.url(client))
            for a in available_actions(client, page.contract, page.open_offer)
            if request.user.has_perm(a.permission)
        ],
        # The invoices' own pages are the billing pages': a link for those who may open them.
        "sees_invoices": request.user.has_perm(MANAGE_BILLING),
    }
    return render(request, "tickets/client_detail.html", context)


@require_GET
@works_tickets
def client_csv(request: WorkspaceRequest, pk: int, figure: str) -> HttpResponse:
    """One table of the client page as CSV: "hours" (the six months) or "money" (the year)."""
    client = get_object_or_404(Client, pk=pk)
    now = timezone.now()
    if figure == "hours":
        terms, months = client_terms(client), six_months(now)
        table = hours_table(contract_hours(terms, minutes_worked(terms, months), months))
    elif figure == "money":
        table = money_year(client, now).table
    else:
        raise Http404("No such table.")
    response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
    filename = f"client-{client.pk}-{figure}-{timezone.localdate(now)}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename) or ""
    return response


# --- The manager's actions -------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    """One thing a manager may do to a client from its page, through the service that does it
    everywhere else (the admin, the insights pages)."""

    slug: str
    label: str  # the button on the client page
    title: str  # the confirmation page's heading: "{client}" is filled in
    permission: str
    form: type[forms.Form]
    # Why it cannot be done now (None: it can), from the client, its active contract and its
    # open offer; the service asks again under its lock.
    refusal: Callable[[Client, ServiceContract | None, ConversionOffer | None], str | None]
    # Do it; return the message to show. Raises one of `refusals`.
    apply: Callable[[Client, ServiceContract | None, dict[str, Any], Any], str]
    danger: bool = False

    def url(self, client: Client) -> str:
        return reverse(f"tickets:client_{self.slug}", args=[client.pk])


def _offer_refusal(
    client: Client, contract: ServiceContract | None, offer: ConversionOffer | None
) -> str | None:
    if client.is_dropped:
        return f"{client} has been dropped; reinstate it first."
    if contract is not None:
        return f"{client} holds a contract already."
    if client.offers_opt_out:
        return f"{client} asked not to receive offers."
    if offer is not None:
        return f"{client} has an open offer already."
    return None


def _drop_refusal(
    client: Client, contract: ServiceContract | None, offer: ConversionOffer | None
) -> str | None:
    if client.is_dropped:
        return f"{client} was dropped already."
    if contract is not None:
        return f"{client} holds an active contract; cancel it first."
    return None


def _reinstate_refusal(
    client: Client, contract: ServiceContract | None, offer: ConversionOffer | None
) -> str | None:
    return None if client.is_dropped else f"{client} is not dropped."


def _contract_refusal(
    client: Client, contract: ServiceContract | None, offer: ConversionOffer | None
) -> str | None:
    return None if contract is not None else f"{client} holds no active contract."


def _send_offer(client: Client, contract: Any, data: dict[str, Any], by: Any) -> str:
    offer = offer_send_now(client=client, by=by)
    return (
        f"Offered {client} the {offer.plan} plan at {money(offer.monthly_price)} a month; "
        f"the email to {offer.email} is on its way."
    )


def _drop(client: Client, contract: Any, data: dict[str, Any], by: Any) -> str:
    # The contracts service: it refuses, under the client's lock, a client who started a
    # contract since the page was drawn.
    client_drop_unless_contracted(client=client, reason=data["reason"], by=by)
    return f"Dropped {client}: no more offers, and a new ticket needs a manager's override."


def _reinstate(client: Client, contract: Any, data: dict[str, Any], by: Any) -> str:
    client_reinstate(client=client, by=by)
    return f"Reinstated {client}."


def _renew(client: Client, contract: ServiceContract | None, data: dict[str, Any], by: Any) -> str:
    assert contract is not None  # _contract_refusal let it through
    renewed = contract_renew(contract=contract, by=by)
    return (
        f"Renewed {client}'s {contract.plan} contract from {renewed.starts_on:%-d %b %Y} to "
        f"{renewed.ends_on:%-d %b %Y} at {money(renewed.monthly_price)} a month."
    )


def _cancel(client: Client, contract: ServiceContract | None, data: dict[str, Any], by: Any) -> str:
    assert contract is not None  # _contract_refusal let it through
    contract_cancel(contract=contract, reason=data["reason"], by=by)
    return f"Cancelled {client}'s {contract.plan} contract; it is transactional now."


ACTIONS = {
    a.slug: a
    for a in (
        Action("offer", "Send an offer now", "Send {client} a contract offer now", SEND_OFFERS,
               OfferNowForm, _offer_refusal, _send_offer),
        Action("renew", "Renew the contract", "Renew {client}'s contract", MANAGE_CONTRACTS,
               RenewForm, _contract_refusal, _renew),
        Action("cancel", "Cancel the contract", "Cancel {client}'s contract", MANAGE_CONTRACTS,
               CancelForm, _contract_refusal, _cancel, danger=True),
        Action("reinstate", "Reinstate", "Reinstate {client}", DROP_CLIENTS,
               ClientReinstateForm, _reinstate_refusal, _reinstate),
        Action("drop", "Drop the client", "Drop {client}", DROP_CLIENTS,
               ClientDropForm, _drop_refusal, _drop, danger=True),
    )
}  # fmt: skip
REFUSALS = (ClientError, ContractError, OfferError)


def available_actions(
    client: Client, contract: ServiceContract | None, offer: ConversionOffer | None
) -> list[Action]:
    """The actions the client's standing allows now, in the page's order."""
    return [a for a in ACTIONS.values() if a.refusal(client, contract, offer) is None]


def _initial(action: Action, client: Client, contract: ServiceContract | None) -> dict[str, int]:
    """The hidden fields of the forms the other pages share: which client, which contract."""
    if "contract" in action.form.base_fields:
        return {"contract": contract.pk} if contract is not None else {}
    if "client" in action.form.base_fields:
        return {"client": client.pk}
    return {}


def _posted_for_another(form: forms.Form, client: Client, contract: ServiceContract | None) -> bool:
    """Whether a valid form names another client or contract than the page it was posted to."""
    data = form.cleaned_data
    if "contract" in data:
        return contract is None or data["contract"].pk != contract.pk
    if "client" in data:
        return data["client"].pk != client.pk
    return False


@require_http_methods(["GET", "POST"])
@works_tickets
def client_action(request: WorkspaceRequest, pk: int, action: str) -> HttpResponse:
    """The confirmation page of one action (GET) and the action itself (POST)."""
    chosen = ACTIONS[action]
    if not request.user.has_perm(chosen.permission):
        raise PermissionDenied
    client = get_object_or_404(Client, pk=pk)
    contract = ServiceContract.objects.active().for_client(client).select_related("plan").first()
    offer = ConversionOffer.objects.open().for_client(client.pk).first()
    back = redirect("tickets:client", pk=client.pk)
    if (refusal := chosen.refusal(client, contract, offer)) is not None:
        messages.error(request, f"Nothing was changed. {refusal}")
        return back
    status = 200
    if request.method == "POST":
        form = chosen.form(request.POST)
        if form.is_valid() and _posted_for_another(form, client, contract):
            form.add_error(None, "That form was for another client or contract; start again.")
        if form.is_valid():
            try:
                done = chosen.apply(client, contract, form.cleaned_data, request.user)
            except REFUSALS as exc:
                messages.error(request, f"Nothing was changed. {exc}")
            else:
                messages.success(request, done)
            return back
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        status = UNPROCESSABLE
    else:
        form = chosen.form(initial=_initial(chosen, client, contract))
    context = {
        "action": chosen,
        "title": chosen.title.format(client=client),
        "client": client,
        "contract": contract,
        "form": form,
        "next_starts_on": contract.ends_on + dt.timedelta(days=1) if contract else None,
        "outlook": campaign_outlook(client) if chosen.slug == "offer" else None,
    }
    return render(request, "tickets/client_action.html", context, status=status)
