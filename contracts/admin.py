"""Contract management in the Django admin: plans, calendars, contracts and the clients who hold them.

Every change with business rules goes through contracts.services; the admin only collects input.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from clients.admin import ContactInline
from clients.models import Client, ClientQuerySet, ClientStatus
from clients.services import ClientError, client_reinstate
from contracts.emails import money
from contracts.history import percent_text
from contracts.models import (
    BusinessCalendar,
    CampaignRun,
    CampaignSettings,
    ContractPlan,
    ContractStatus,
    ConversionOffer,
    Holiday,
    OfferStatus,
    Priority,
    ServiceContract,
    ServiceLevel,
)
from contracts.offers import OfferError, client_opt_out_set, offer_send_now
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_cancel,
    contract_renew,
    contract_start,
    contract_start_refusal,
    plan_copy,
)


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
MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=12, decimal_places=2)
HISTORY_LINES = 20


def price_after_discount(monthly_price: Decimal, discount_percent: Decimal) -> str:
    """ "$258.10 (11% off)" for the contract and offer lists."""
    discount = f" ({percent_text(discount_percent)} off)" if discount_percent else ""
    return f"{money(monthly_price)}{discount}"  # the newest lines of a client's history shown on its page


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


class CancelForm(forms.Form):
    reason = forms.CharField(
        max_length=300, required=True, widget=forms.TextInput(attrs={"size": 60})
    )


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
    readonly_fields = [
        "client",
        "plan",
        "status",
        "starts_on",
        "ends_on",
        "monthly_price",
        "discount_percent",
        "renewed_from",
        "ended_at",
        "end_reason",
        "created_at",
    ]

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

    def get_readonly_fields(
        self, request: HttpRequest, obj: ServiceContract | None = None
    ) -> list[str]:
        # Terms, prices and status change only through the services (the actions below), so
        # that signals fire and history stays true; on an existing contract only the renewal
        # mode is editable.
        return [] if obj is None else list(self.readonly_fields)

    def get_fields(self, request: HttpRequest, obj: ServiceContract | None = None) -> Any:
        if obj is None:
            return list(ContractStartForm.Meta.fields)
        return [*self.readonly_fields[:7], "renewal", *self.readonly_fields[7:]]

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

    def save_model(
        self, request: HttpRequest, obj: ServiceContract, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            obj.save(update_fields=["renewal"])
            return
        data = form.cleaned_data
        created = contract_start(
            client=data["client"],
            plan=data["plan"],
            starts_on=data["starts_on"],
            discount_percent=data["discount_percent"],
            monthly_price=data.get("monthly_price"),
            renewal=data["renewal"],
            by=request.user,
        )
        # The admin goes on with `obj` (messages, the log entry, the redirect): make it the row
        # the service created.
        for field in ServiceContract._meta.concrete_fields:
            setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False
        obj._state.db = created._state.db

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
        form = CancelForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            cancelled = 0
            for contract in queryset.select_related("client"):
                try:
                    contract_cancel(
                        contract=contract, reason=form.cleaned_data["reason"], by=request.user
                    )
                    cancelled += 1
                except ContractError as exc:
                    self.message_user(request, f"{contract.client}: {exc}", messages.WARNING)
            if cancelled:
                self.message_user(request, f"Cancelled {cancelled} contract(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/contracts/cancel_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Cancel contracts",
                "contracts": queryset.select_related("client", "plan"),
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


# --- Clients (here, not in clients/admin.py: the page shows contracts) ------------------------
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
        holds_contract = Exists(ServiceContract.objects.active().filter(client=OuterRef("pk")))
        if self.value() == "contract":
            return queryset.filter(holds_contract)
        if self.value() == "transactional":
            return queryset.filter(~holds_contract)
        return None


class DropForm(forms.Form):
    reason = forms.CharField(
        max_length=500, required=True, widget=forms.TextInput(attrs={"size": 60})
    )


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "status",
        "current_plan",
        "spend_last_12_months",
        "customer_since",
        "offers_opt_out",
    ]
    list_filter = [ContractHolderFilter, "status", "offers_opt_out"]
    search_fields = ["name", "contacts__email"]
    inlines = [ContactInline, ContractInline]
    readonly_fields = [
        "spend_last_12_months",
        "status",
        "dropped_at",
        "drop_reason",
        "created_at",
        "history",
    ]
    fields = [
        "name",
        "customer_since",
        "offers_opt_out",
        "notes",
        "spend_last_12_months",
        "status",
        "dropped_at",
        "drop_reason",
        "created_at",
    ]
    actions = ["send_offer_now", "drop_clients", "reinstate_clients"]

    def get_fieldsets(self, request: HttpRequest, obj: Client | None = None) -> Any:
        fieldsets: list[tuple[str | None, dict[str, Any]]] = [(None, {"fields": self.fields})]
        if obj is not None:
            fieldsets.append(("History", {"fields": ["history"]}))
        return fieldsets

    @admin.display(description="Latest changes")
    def history(self, obj: Client) -> str:
        """The newest lines of the client's history, and a link to all of them.

        A read-only field, not an inline: an inline would put every line ever written on the
        page and in its form, and a formset cannot be cut to the newest few.
        """
        events = list(obj.events.select_related("by")[: HISTORY_LINES + 1])
        log = reverse("admin:clients_clientevent_changelist")
        return render_to_string(
            "admin/clients/client_history.html",
            {
                "events": events[:HISTORY_LINES],
                "more": len(events) > HISTORY_LINES,
                "log_url": f"{log}?{urlencode({'client__id__exact': obj.pk})}",
            },
        )

    def save_model(self, request: HttpRequest, obj: Client, form: Any, change: bool) -> None:
        if not (change and "offers_opt_out" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        # The opt-out goes through its service: it withdraws open offers and writes history.
        opt_out = obj.offers_opt_out
        obj.offers_opt_out = not opt_out
        super().save_model(request, obj, form, change)
        client_opt_out_set(client=obj, opt_out=opt_out, by=request.user)
        obj.offers_opt_out = opt_out

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> Any:
        # Tenure drives the loyalty discount and the opt-out is the client's own word: only
        # managers change them.
        fields = list(self.readonly_fields)
        if not request.user.has_perm("contracts.change_servicecontract"):
            fields += ["customer_since", "offers_opt_out"]
        return fields

    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Client]:
        active = ServiceContract.objects.active().filter(client=OuterRef("pk"))
        clients = cast(ClientQuerySet, super().get_queryset(request))
        return clients.with_trailing_spend().annotate(
            has_contract=Exists(active),
            current_plan_name=Subquery(active.values("plan__name")[:1]),
        )

    @admin.display(description="Plan", ordering="current_plan_name")
    def current_plan(self, obj: Client) -> str:
        return obj.current_plan_name or "Transactional"  # type: ignore[attr-defined]

    @admin.display(description="Spend, last 12 months", ordering="trailing_spend")
    def spend_last_12_months(self, obj: Client) -> str:
        return f"${obj.trailing_spend:,.2f}"  # type: ignore[attr-defined]

    @admin.action(description="Send a contract offer now", permissions=["change_offer"])
    def send_offer_now(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        sent = 0
        for client in queryset:
            try:
                offer_send_now(client=client, by=request.user)
                sent += 1
            except OfferError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if sent:
            self.message_user(
                request,
                f"Offered a contract to {sent} client(s); the emails are on their way.",
                messages.SUCCESS,
            )

    def has_change_offer_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("contracts.change_conversionoffer")

    # Dropping is a manager's decision: only those who may delete clients see these actions.
    @admin.action(description="Drop selected clients (stop serving them)…", permissions=["delete"])
    def drop_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> HttpResponse | None:
        form = DropForm(request.POST if "confirm" in request.POST else None)
        if "confirm" in request.POST and form.is_valid():
            dropped = 0
            for client in queryset:
                try:
                    client_drop_unless_contracted(
                        client=client, reason=form.cleaned_data["reason"], by=request.user
                    )
                    dropped += 1
                except (ContractError, ClientError) as exc:
                    self.message_user(request, str(exc), messages.WARNING)
            if dropped:
                self.message_user(request, f"Dropped {dropped} client(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/contracts/drop_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Drop clients",
                "clients": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Reinstate selected dropped clients", permissions=["delete"])
    def reinstate_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> None:
        done = 0
        for client in queryset.filter(status=ClientStatus.DROPPED):
            try:
                client_reinstate(client=client, by=request.user)
                done += 1
            except ClientError as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"Reinstated {done} client(s).", messages.SUCCESS)


# --- Conversion campaigns -------------------------------------------------------------------------
@admin.register(CampaignSettings)
class CampaignSettingsAdmin(admin.ModelAdmin):
    """The single row of campaign rules: the changelist goes straight to it."""

    fieldsets = [
        (
            "Who qualifies",
            {
                "fields": [
                    "min_trailing_spend",
                    "min_trailing_tickets",
                    "cooldown_days",
                    "max_offers_per_run",
                ]
            },
        ),
        (
            "Loyalty discount",
            {
                "fields": [
                    "base_discount_percent",
                    "tenure_bonus_percent_per_year",
                    "max_discount_percent",
                ]
            },
        ),
        ("Offer lifetime", {"fields": ["offer_lifetime_days", "reminder_days_before_expiry"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        CampaignSettings.load()
        return redirect("admin:contracts_campaignsettings_change", 1)


@admin.register(ConversionOffer)
class ConversionOfferAdmin(admin.ModelAdmin):
    list_display = [
        "client",
        "plan",
        "status",
        "price_display",
        "savings_display",
        "sent_at",
        "expires_at",
    ]
    list_select_related = ["client", "plan"]
    list_filter = ["status", "campaign_run", "plan"]
    search_fields = ["client__name", "email"]
    date_hierarchy = "created_at"
    list_per_page = 50
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: ConversionOffer | None = None) -> Any:
        return [f.name for f in ConversionOffer._meta.concrete_fields if f.name != "nonce"]

    def get_fields(self, request: HttpRequest, obj: ConversionOffer | None = None) -> Any:
        return self.get_readonly_fields(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # offers come from campaigns or the client list's "send an offer now"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConversionOffer]:
        # ConversionOffer.savings, in SQL, so the column sorts by what it shows.
        saving = ExpressionWrapper(F("trailing_spend") - F("contract_cost"), output_field=MONEY)
        return super().get_queryset(request).annotate(saving=saving)

    @admin.display(description="Price a month", ordering="monthly_price")
    def price_display(self, obj: ConversionOffer) -> str:
        return price_after_discount(obj.monthly_price, obj.discount_percent)

    @admin.display(description="Against the last year", ordering="saving")
    def savings_display(self, obj: ConversionOffer) -> str:
        if obj.savings >= 0:
            return f"saves ${obj.savings:,.2f}"
        return f"costs ${obj.extra_cost:,.2f} more"


@admin.register(CampaignRun)
class CampaignRunAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "trigger",
        "eligible_clients",
        "offers",
        "accepted",
        "declined",
        "conversion",
        "triggered_by",
    ]
    list_select_related = ["triggered_by"]
    readonly_fields = [
        "started_at",
        "trigger",
        "eligible_clients",
        "offers_created",
        "triggered_by",
    ]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                accepted_count=Count("offers", filter=Q(offers__status=OfferStatus.ACCEPTED)),
                declined_count=Count("offers", filter=Q(offers__status=OfferStatus.DECLINED)),
            )
        )

    @admin.display(description="Offers", ordering="offers_created")
    def offers(self, obj: CampaignRun) -> str:
        url = reverse("admin:contracts_conversionoffer_changelist")
        query = urlencode({"campaign_run__id__exact": obj.pk})
        return format_html('<a href="{}?{}">{}</a>', url, query, obj.offers_created)

    @admin.display(description="Accepted", ordering="accepted_count")
    def accepted(self, obj: CampaignRun) -> int:
        return int(obj.accepted_count)  # type: ignore[attr-defined]

    @admin.display(description="Declined", ordering="declined_count")
    def declined(self, obj: CampaignRun) -> int:
        return int(obj.declined_count)  # type: ignore[attr-defined]

    @admin.display(description="Converted")
    def conversion(self, obj: CampaignRun) -> str:
        if not obj.offers_created:
            return "-"
        return f"{100 * obj.accepted_count / obj.offers_created:.0f}%"  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
