"""Service contracts in the Django admin: start one, renew, cancel, follow the renewals.

Every change goes through contracts.services; the admin only collects input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from clients.admin import ReasonAction, SingleRowAdmin, confirm_with_reason, field_length
from clients.audit import HistoryAdmin
from clients.money import money
from contracts.history import discount_note
from contracts.models import ContractStatus, RenewalSettings, ServiceContract
from contracts.services import (
    ContractError,
    contract_cancel,
    contract_renew,
    contract_start,
    contract_start_refusal,
)

if TYPE_CHECKING:
    from clients.services import Actor


# --- Contracts ---------------------------------------------------------------------------------
def price_after_discount(monthly_price: Decimal, discount_percent: Decimal) -> str:
    """ "$258.10 (11% off)" for the contract and offer lists."""
    return f"{money(monthly_price)}{discount_note(discount_percent)}"


class EndMonthFilter(admin.SimpleListFilter):
    """Active contracts by the month their term ends: the renewal pipeline."""

    title = "term ends"
    parameter_name = "ends"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        first = timezone.localdate().replace(day=1)
        months = [first + relativedelta(months=n) for n in range(12)]
        return [("past", "Already past"), *((f"{m:%Y-%m}", f"{m:%B %Y}") for m in months)]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ServiceContract]
    ) -> QuerySet[ServiceContract] | None:
        value = self.value()
        if not value:
            return None
        if value == "past":
            return queryset.filter(status=ContractStatus.ACTIVE, ends_on__lt=timezone.localdate())
        try:
            month = dt.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a calendar month)
        except ValueError:
            return queryset.none()
        return queryset.filter(
            status=ContractStatus.ACTIVE,
            ends_on__gte=month,
            ends_on__lt=month + relativedelta(months=1),
        )


class ContractStartForm(forms.ModelForm):
    """The add form: what a manager chooses; term end and price follow from the plan."""

    monthly_price = forms.DecimalField(
        required=False,
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text="Leave empty to use the plan's price less the discount.",
    )

    class Meta:
        model = ServiceContract
        fields = [
            "client",
            "plan",
            "starts_on",
            "discount_percent",
            "discount_first_term_only",
            "monthly_price",
            "renewal",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client, plan = cleaned.get("client"), cleaned.get("plan")
        refusal = contract_start_refusal(client, plan) if client and plan else None
        if refusal is not None:
            self.add_error("client", refusal)
        return cleaned


# A contract's page, in order; only the renewal mode is editable on an existing contract.
CONTRACT_FIELDS = [
    "client",
    "plan",
    "status",
    "starts_on",
    "ends_on",
    "price_display",
    "discount_first_term_only",
    "renewal_price_display",
    "renewal",
    "renewed_from",
    "ended_at",
    "end_reason",
    "created_at",
]


@admin.register(ServiceContract)
class ServiceContractAdmin(HistoryAdmin):
    list_display = [
        "client",
        "plan",
        "status",
        "starts_on",
        "ends_on",
        "price_display",
        "renewal",
    ]
    list_select_related = ["client", "plan"]
    list_filter = ["status", "plan", EndMonthFilter, "renewal"]
    search_fields = ["client__name"]
    autocomplete_fields = ["client", "plan"]
    actions = ["renew_contracts", "cancel_contracts"]
    ordering = ["ends_on", "id"]
    list_per_page = 50
    fields = tuple(CONTRACT_FIELDS)

    @admin.display(description="Price a month", ordering="monthly_price")
    def price_display(self, obj: ServiceContract) -> str:
        return price_after_discount(obj.monthly_price, obj.discount_percent)

    @admin.display(description="Price of the next term")
    def renewal_price_display(self, obj: ServiceContract) -> str:
        price = f"{money(obj.renewal_price)} a month"
        if obj.discount_ends_with_term:
            return f"{price}: the plan's price, as the first-term discount ends"
        return price

    def get_form(
        self,
        request: HttpRequest,
        obj: ServiceContract | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = ContractStartForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: ServiceContract | None = None) -> Any:
        return list(ContractStartForm.Meta.fields) if obj is None else CONTRACT_FIELDS

    def get_readonly_fields(
        self, request: HttpRequest, obj: ServiceContract | None = None
    ) -> list[str]:
        # Terms, prices and status change only through the services (the actions below), so
        # that signals fire and history stays true; on an existing contract only the renewal
        # mode is editable.
        return [] if obj is None else [f for f in CONTRACT_FIELDS if f != "renewal"]

    def has_delete_permission(
        self, request: HttpRequest, obj: ServiceContract | None = None
    ) -> bool:
        return False

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The form checks the same rules as the service; only a race (another start between
        # the check and the save) fails here. The add view's transaction has rolled back.
        try:
            return super().add_view(request, form_url, extra_context)
        except ContractError as exc:
            self.message_user(request, f"Nothing was saved: {exc}", messages.ERROR)
            return redirect("admin:contracts_servicecontract_add")

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> ServiceContract:
        """A new contract is started by its service (which locks the client, writes the history
        and moves the client's tickets up); the admin then logs and shows the row it made."""
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return contract_start(
            client=data["client"],
            plan=data["plan"],
            starts_on=data["starts_on"],
            discount_percent=data["discount_percent"],
            discount_first_term_only=data["discount_first_term_only"],
            monthly_price=data.get("monthly_price"),
            renewal=data["renewal"],
            by=request.user,
        )

    def save_model(
        self, request: HttpRequest, obj: ServiceContract, form: forms.ModelForm, change: bool
    ) -> None:
        # A new contract was saved by contract_start (save_form); a change is the renewal mode.
        if change:
            obj.save(update_fields=["renewal"])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # contract_start wrote everything a new contract needs; it has no inlines or m2m.
        if change:
            super().save_related(request, form, formsets, change)

    # permissions=["change"]: an action without permissions is offered to everyone who can
    # see the changelist, and consultants may only view contracts.
    @admin.action(description="Renew selected contracts for another term", permissions=["change"])
    def renew_contracts(self, request: HttpRequest, queryset: QuerySet[ServiceContract]) -> None:
        renewed = 0
        for contract in queryset.select_related("client"):
            try:
                contract_renew(contract=contract, by=request.user)
                renewed += 1
            except ContractError as exc:
                self.message_user(request, f"{contract.client}: {exc}", messages.WARNING)
        if renewed:
            self.message_user(
                request, f"Renewed {renewed} contract(s) for another term.", messages.SUCCESS
            )

    @admin.action(description="Cancel selected contracts…", permissions=["change"])
    def cancel_contracts(
        self, request: HttpRequest, queryset: QuerySet[ServiceContract]
    ) -> HttpResponse | None:
        return confirm_with_reason(
            self,
            request,
            queryset.select_related("client", "plan"),
            ReasonAction(
                name="cancel_contracts",
                title="Cancel contracts",
                intro="These clients will lose their guaranteed response times now; their open "
                "tickets go back in line as transactional tickets.",
                submit="Yes, cancel these contracts",
                done="Cancelled {n} contract(s).",
                apply=_cancel,
                refusals=(ContractError,),
                reason_length=field_length(ServiceContract, "end_reason"),
                label=lambda c: (
                    f"{c.client} — {c.plan}, {c.get_status_display()}, ends {c.ends_on}"
                ),
            ),
        )


def _cancel(contract: ServiceContract, reason: str, by: Actor) -> ServiceContract:
    try:
        return contract_cancel(contract=contract, reason=reason, by=by)
    except ContractError as exc:
        raise ContractError(f"{contract.client}: {exc}") from exc


@admin.register(RenewalSettings)
class RenewalSettingsAdmin(SingleRowAdmin):
    """The single row of renewal rules: the changelist goes straight to it."""

    fields = ["notice_days"]
