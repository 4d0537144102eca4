"""Plans, their targets, and the business calendar their clocks run in, in the Django admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import HttpRequest

from clients.money import money
from contracts.models import (
    BusinessCalendar,
    ContractPlan,
    ContractStatus,
    Holiday,
    Priority,
    ServiceLevel,
)
from contracts.services import ContractError, plan_copy


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


# A fixed term shown read-only through a display method instead of the bare field.
_SHOWN = {"overage_hourly_rate": "overage_display"}


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
        if not _running(obj):
            return fields
        # Fixed terms are shown, not edited; the overage rate as the money it is.
        return [*fields, *(_SHOWN.get(name, name) for name in ContractPlan.RUNNING_TERMS)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [str(name) for name in super().get_fields(request, obj)]
        return [_SHOWN.get(name, name) for name in fields] if _running(obj) else fields

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
