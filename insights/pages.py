"""The renewals and drop-candidate pages and their actions. Thin views: the insights modules
read (a fixed number of queries), the forms validate, the contracts and clients services write;
every state change is a POST, and a refusal is a message, never an error page.

(A module of their own beside views.py, which holds the dashboard: the two kinds of page share
only the permission check.)
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clients.money import money
from clients.services import ClientError, client_reinstate
from clients.staff import DROP_CLIENTS
from contracts.forms import CancelForm, DropForm, RenewForm, UndoDropForm, form_errors
from contracts.models import RenewalSettings, ServiceContract
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_cancel,
    contract_renew,
)
from contracts.staff import MANAGE_CONTRACTS
from insights.drops import Candidate, drop_candidates, recently_dropped
from insights.renewals import Horizon, renewals_due, renewals_of
from insights.views import views_insights

# Renewing and cancelling are the contract admin's changes; dropping and reinstating a client
# ask what the client admin's drop action asks.
manages_contracts = permission_required(MANAGE_CONTRACTS, raise_exception=True)
drops_clients = permission_required(DROP_CLIENTS, raise_exception=True)

RENEWALS_PER_PAGE = 100
CANDIDATES_PER_PAGE = 50
UNPROCESSABLE = 422


class ManagerRequest(HttpRequest):
    user: User


# --- Renewals ---------------------------------------------------------------------------------
@require_GET
@views_insights
def renewals(request: ManagerRequest) -> HttpResponse:
    horizon = Horizon(timezone.localdate())
    settings_row = RenewalSettings.load()
    page = Paginator(renewals_due(horizon), RENEWALS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "horizon": horizon,
        "page": page,
        "rows": renewals_of(page.object_list, settings_row),
        "settings_row": settings_row,
        "tab": "renewals",
    }
    return render(request, "insights/renewals.html", context)


@require_GET
@views_insights
@manages_contracts
def renewal_confirm(request: ManagerRequest, pk: int) -> HttpResponse:
    """Renew or cancel one contract: the confirmation step, with what each would do."""
    contract = (
        ServiceContract.objects.active().select_related("client", "plan").filter(pk=pk).first()
    )
    if contract is None:
        messages.error(
            request, "That contract is not active (it may have been renewed or cancelled already)."
        )
        return redirect("insights:renewals")
    return _confirm_page(request, contract)


def _confirm_page(
    request: ManagerRequest,
    contract: ServiceContract,
    *,
    renew_form: RenewForm | None = None,
    cancel_form: CancelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    (row,) = renewals_of([contract], RenewalSettings.load())
    context = {
        "row": row,
        "contract": contract,
        "renew_form": renew_form or RenewForm(initial={"contract": contract.pk}),
        "cancel_form": cancel_form or CancelForm(initial={"contract": contract.pk}),
        "tab": "renewals",
    }
    return render(request, "insights/renewal_confirm.html", context, status=status)


def _refused(request: ManagerRequest, form: RenewForm | CancelForm) -> HttpResponse:
    """Say why nothing changed; back on the contract's confirmation page if it is still
    active, else on the list."""
    messages.error(request, f"Nothing was changed. {form_errors(form)}")
    contract = form.cleaned_data.get("contract")
    if contract is None:
        return redirect("insights:renewals")
    if isinstance(form, RenewForm):
        return _confirm_page(request, contract, renew_form=form, status=UNPROCESSABLE)
    return _confirm_page(request, contract, cancel_form=form, status=UNPROCESSABLE)


@require_POST
@views_insights
@manages_contracts
def renewal_renew(request: ManagerRequest) -> HttpResponse:
    form = RenewForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    contract = form.cleaned_data["contract"]
    try:
        renewed = contract_renew(contract=contract, by=request.user)
    except ContractError as exc:
        messages.error(request, f"Nothing was changed. {exc}")
        return redirect("insights:renewals")
    messages.success(
        request,
        f"Renewed {contract.client}'s {contract.plan} contract from "
        f"{renewed.starts_on:%Y-%m-%d} to {renewed.ends_on:%Y-%m-%d} at "
        f"{money(renewed.monthly_price)} a month.",
    )
    return redirect("insights:renewals")


@require_POST
@views_insights
@manages_contracts
def renewal_cancel(request: ManagerRequest) -> HttpResponse:
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    contract = form.cleaned_data["contract"]
    try:
        contract_cancel(contract=contract, reason=form.cleaned_data["reason"], by=request.user)
    except ContractError as exc:
        messages.error(request, f"Nothing was changed. {exc}")
        return redirect("insights:renewals")
    messages.success(
        request, f"Cancelled {contract.client}'s {contract.plan} contract; it is transactional now."
    )
    return redirect("insights:renewals")


# --- Drop candidates --------------------------------------------------------------------------
@require_GET
@views_insights
def drops(request: ManagerRequest) -> HttpResponse:
    now = timezone.now()
    page = Paginator(drop_candidates(now), CANDIDATES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "candidates": [Candidate(client) for client in page.object_list],
        "dropped": list(recently_dropped(now)),
        "tab": "drops",
    }
    return render(request, "insights/drops.html", context)


@require_POST
@views_insights
@drops_clients
def drop(request: ManagerRequest) -> HttpResponse:
    form = DropForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        return redirect("insights:drops")
    client = form.cleaned_data["client"]
    try:
        # The contracts service, not clients.client_drop: it refuses, under the client's lock,
        # a client who started a contract since the page was drawn.
        client_drop_unless_contracted(
            client=client, reason=form.cleaned_data["reason"], by=request.user
        )
    except (ContractError, ClientError) as exc:
        messages.error(request, f"Nothing was changed. {exc}")
    else:
        messages.success(request, f"Dropped {client}: no more offers and no new tickets.")
    return redirect("insights:drops")


@require_POST
@views_insights
@drops_clients
def drop_undo(request: ManagerRequest) -> HttpResponse:
    form = UndoDropForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {form_errors(form)}")
        return redirect("insights:drops")
    client = form.cleaned_data["client"]
    try:
        client_reinstate(client=client, by=request.user)
    except ClientError as exc:
        messages.error(request, f"Nothing was changed. {exc}")
    else:
        messages.success(request, f"Reinstated {client}.")
    return redirect("insights:drops")
