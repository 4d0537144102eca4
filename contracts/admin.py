"""Contract management in the Django admin: plans, calendars, contracts, and the contracts
on a client's page (a subclass of clients' ClientAdmin, registered in its place).

Every change with business rules goes through contracts.services; the admin only collects input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone

from clients.admin import ClientAdmin, ReasonAction, confirm_with_reason
from clients.models import Client
from clients.money import money, percent
from contracts.models import (
    BusinessCalendar,
    ContractPlan,
    ContractStatus,
    Holiday,
    Priority,
    ServiceContract,
    ServiceLevel,
)
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_cancel,
    contract_renew,
    contract_start,
    contract_start_refusal,
    plan_copy,
)

if TYPE_CHECKING:
    from clients.services import Actor


# --- Calendar ----------------------------------------------------------------------------------
class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "opens_at", "closes_at", "working_days"]
    inlines = [HolidayInline]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "timezone", ("opens_at", "closes_at")]}),
        (
            "Working days",
            {
                "fields": [
                    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
                ]
            },
        ),
    ]

    @admin.display(description="Working days")
    def working_days(self, obj: BusinessCalendar) -> str:
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        return ", ".join(names[day] for day in sorted(obj.working_weekdays))


# --- Plans -------------------------------------------------------------------------------------
class ServiceLevelInline(admin.TabularInline):
    model = ServiceLevel
    extra = 0
    min_num = 1
    fields = ["priority", "response_minutes", "resolution_minutes", "in_words"]
    readonly_fields = ["in_words"]
    verbose_name = "target"
    verbose_name_plural = "Response and resolution targets (minutes of covered time)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceLevel]:
        # Most urgent first, as the offer shows them (not the alphabet's High, Low, Normal, ...).
        urgency = Case(
            *(When(priority=p, then=Value(n)) for n, p in enumerate(reversed(Priority.values))),
            default=Value(len(Priority.values)),
        )
        # Each row's title names its plan: joined, not a query per row.
        return super().get_queryset(request).select_related("plan").order_by(urgency)

    @admin.display(description="In words")
    def in_words(self, level: ServiceLevel) -> str:
        if level.pk is None:
            return ""
        return f"respond within {level.response_text}, resolve within {level.resolution_text}"

    # While contracts run on the plan, its targets are theirs: read-only (ContractPlan docstring).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and not _running(obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and not _running(obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and not _running(obj)


def _running(plan: ContractPlan | None) -> bool:
    # The plan admin's queryset is with_use(), so this costs no query however often it is asked.
    return plan is not None and plan.terms_in_use()


@admin.register(ContractPlan)
class ContractPlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "price_display",
        "included_hours",
        "coverage",
        "overage_display",
        "term_months",
        "is_offered",
        "active_contracts",
    ]
    list_filter = ["coverage", "is_offered"]
    search_fields = ["name"]
    inlines = [ServiceLevelInline]
    actions = ["copy_plans"]
    # Declared, so the fixed terms of a plan in use stay in their place when read-only.
    fields = [
        "name",
        "description",
        "monthly_price",
        "included_hours",
        "coverage",
        "calendar",
        "overage_hourly_rate",
        "term_months",
        "is_offered",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        return fields + list(ContractPlan.RUNNING_TERMS) if _running(obj) else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if not _running(obj):
            return fieldsets
        (name, options), *rest = fieldsets
        note = (
            "Active contracts run on this plan, or open offers promise its terms, so its "
            "included hours, overage rate, coverage, calendar, term length and targets are "
            "fixed until they end. To sell different terms, use "
            "“Copy as new plans” on the plan list, edit and offer the copy, and stop offering "
            "this one. A new price applies to new offers and contracts only."
        )
        return [(name, {**options, "description": note}), *rest]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A plan that ever had a contract or an offer is history (PROTECT): stop offering it
        # instead. Hiding the button beats the admin's "you may not delete ..." page.
        if obj is not None and obj.was_sold_or_offered():
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description="Copy as new plans (not offered yet)", permissions=["add"])
    def copy_plans(self, request: HttpRequest, queryset: QuerySet[ContractPlan]) -> None:
        copies = []
        for plan in queryset.order_by("name"):
            try:
                copy = plan_copy(plan=plan)
            except ContractError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            self.log_addition(request, copy, [{"added": {}}])
            copies.append(copy)
        if copies:
            self.message_user(
                request,
                "Copied as: " + ", ".join(c.name for c in copies) + ". Rename the copy (clients "
                "see its name), edit its terms and description, tick “Is offered”, and untick it "
                "on the old plan.",
                messages.SUCCESS,
            )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ContractPlan]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_contract_count=Count(
                    "contracts", filter=Q(contracts__status=ContractStatus.ACTIVE)
                ),
            )
            .with_use()
        )

    @admin.display(description="Monthly price", ordering="monthly_price")
    def price_display(self, obj: ContractPlan) -> str:
        return money(obj.monthly_price)

    @admin.display(description="Overage an hour", ordering="overage_hourly_rate")
    def overage_display(self, obj: ContractPlan) -> str:
        return money(obj.overage_hourly_rate)

    @admin.display(description="Active contracts", ordering="active_contract_count")
    def active_contracts(self, obj: ContractPlan) -> int:
        return int(obj.active_contract_count)  # type: ignore[attr-defined]


# --- Contracts ---------------------------------------------------------------------------------
def price_after_discount(monthly_price: Decimal, discount_percent: Decimal) -> str:
    """ "$258.10 (11% off)" for the contract and offer lists."""
    discount = f" ({percent(discount_percent)} off)" if discount_percent else ""
    return f"{money(monthly_price)}{discount}"


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
        fields = ["client", "plan", "starts_on", "discount_percent", "monthly_price", "renewal"]

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
    "monthly_price",
    "discount_percent",
    "renewal",
    "renewed_from",
    "ended_at",
    "end_reason",
    "created_at",
]


@admin.register(ServiceContract)
class ServiceContractAdmin(admin.ModelAdmin):
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


# --- The client page, with its contracts -------------------------------------------------------
class ContractInline(admin.TabularInline):
    model = ServiceContract
    fk_name = "client"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("plan", "status", "starts_on", "ends_on", "monthly_price", "discount_percent")
    readonly_fields = fields
    ordering = ["-starts_on"]
    verbose_name_plural = "Contracts (start one from Service contracts)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceContract]:
        return super().get_queryset(request).select_related("plan")


class ContractHolderFilter(admin.SimpleListFilter):
    title = "service"
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("contract", "On a contract"), ("transactional", "Transactional")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Client]) -> QuerySet[Client] | None:
        holds_contract = ServiceContract.objects.client_holds_one()
        if self.value() == "contract":
            return queryset.filter(holds_contract)
        if self.value() == "transactional":
            return queryset.filter(~holds_contract)
        return None


class ContractClientAdmin(ClientAdmin):
    """The client list and page with the client's contracts and current plan."""

    list_display = [
        "name",
        "status",
        "current_plan",
        "spend_last_12_months",
        "customer_since",
        "offers_opt_out",
    ]
    list_filter = [ContractHolderFilter, *ClientAdmin.list_filter]
    inlines = [*ClientAdmin.inlines, ContractInline]
    drop_refusals = (ContractError,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        active = ServiceContract.objects.active().filter(client=OuterRef("pk"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                has_contract=ServiceContract.objects.client_holds_one(),
                current_plan_name=Subquery(active.values("plan__name")[:1]),
            )
        )

    @admin.display(description="Plan", ordering="current_plan_name")
    def current_plan(self, obj: Client) -> str:
        return obj.current_plan_name or "Transactional"  # type: ignore[attr-defined]

    def drop(self, client: Client, reason: str, by: Actor) -> object:
        return client_drop_unless_contracted(client=client, reason=reason, by=by)

    def drop_warning(self, client: Client) -> str:
        if getattr(client, "has_contract", False):
            return "holds an active contract and will not be dropped: cancel the contract first"
        return super().drop_warning(client)


admin.site.unregister(Client)
admin.site.register(Client, ContractClientAdmin)
