"""Plans, their targets, and the business calendar their clocks run in, in the Django admin."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Case, Count, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import linebreaks_filter
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from clients.admin import field_length
from clients.audit import HistoryAdmin, with_changes
from clients.money import money
from clients.people import staff_name
from contracts.models import (
    BusinessCalendar,
    ContractPlan,
    ContractStatus,
    ContractTerms,
    Holiday,
    Priority,
    ServiceLevel,
)
from contracts.services import ContractError, plan_copy, plan_terms_set
from contracts.terms import standard_terms_of


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


PLAN_FIELDS = (
    "name",
    "description",
    "monthly_price",
    "included_hours",
    "coverage",
    "calendar",
    "overage_hourly_rate",
    "term_months",
    "is_offered",
)


# --- A plan's contract terms -----------------------------------------------------------------
def _terms_versions(plan: ContractPlan) -> list[ContractTerms]:
    """The plan's terms, newest first, read once per page (the form and the read-only fields
    share the plan object)."""
    if plan.pk is None:
        return []
    if (versions := getattr(plan, "_terms_versions", None)) is None:
        versions = list(plan.terms_versions.select_related("created_by").order_by("-version"))
        plan._terms_versions = versions  # type: ignore[attr-defined]
    return versions


def _lines(value: str) -> str:
    # A browser sends a textarea's line breaks as CRLF; the terms keep "\n", so unchanged terms
    # compare equal and make no new version.
    return value.replace("\r\n", "\n").replace("\r", "\n")


class PlanForm(forms.ModelForm):
    """The plan with its current terms as two fields: saving different ones adds a version
    (plan_terms_set); terms left blank, or left as the standard wording, are the standard terms
    worded from the plan's figures as saved."""

    terms_summary = forms.CharField(
        label="Terms in short",
        required=False,
        max_length=field_length(ContractTerms, "summary"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A few lines in plain words; the offer page and the confirmation email "
        "repeat them.",
    )
    terms_text = forms.CharField(
        label="Terms in full",
        required=False,
        max_length=field_length(ContractTerms, "text"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="What the client agrees to; a blank line starts a new paragraph.",
    )

    class Meta:
        model = ContractPlan
        fields = PLAN_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan = self.instance
        # The standard wording for the plan's figures before this change: terms still worded
        # so follow the figures when they change.
        self.standard_before = standard_terms_of(plan) if plan.pk else None
        versions = _terms_versions(plan)
        current = (versions[0].summary, versions[0].text) if versions else self.standard_before
        if current is not None:
            self.initial.setdefault("terms_summary", current[0])
            self.initial.setdefault("terms_text", current[1])

    def clean_terms_summary(self) -> str:
        return _lines(self.cleaned_data["terms_summary"])

    def clean_terms_text(self) -> str:
        return _lines(self.cleaned_data["terms_text"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        summary, text = cleaned.get("terms_summary"), cleaned.get("terms_text")
        if summary is not None and text is not None and bool(summary) != bool(text):
            raise forms.ValidationError(
                "Give both the terms in short and in full, or leave both blank for the "
                "standard terms."
            )
        return cleaned

    def terms_to_save(self) -> tuple[str, str]:
        """(summary, text) to make the plan's current terms, once the plan is saved."""
        terms = (self.cleaned_data["terms_summary"], self.cleaned_data["terms_text"])
        if not terms[0] or terms == self.standard_before:
            return standard_terms_of(self.instance)
        return terms


TERMS_NOTE = (
    "Saving changed terms adds a new version. An offer keeps the version it was made with; "
    "offers made from now on get the new one (and so does an offer made before terms were "
    "versioned, when it is accepted). Terms left as the standard wording follow the plan's "
    "figures when you change them."
)
TERMS_DISPLAYS = ["terms_version_shown", "terms_summary_shown", "terms_text_shown", "earlier_terms"]


# The newest changes of a plan's targets shown on its History page.
TARGET_HISTORY_LINES = 100


@admin.register(ContractPlan)
class ContractPlanAdmin(HistoryAdmin):
    form = PlanForm
    object_history_template = "admin/audit/plan_history.html"
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
    fields = PLAN_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [*super().get_readonly_fields(request, obj), *TERMS_DISPLAYS]
        if not _running(obj):
            return fields
        # Fixed terms are shown, not edited; the overage rate as the money it is.
        return [*fields, *(_SHOWN.get(name, name) for name in ContractPlan.RUNNING_TERMS)]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [str(name) for name in super().get_fields(request, obj)]
        return [_SHOWN.get(name, name) for name in fields] if _running(obj) else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        options: dict[str, Any] = {"fields": self.get_fields(request, obj)}
        if _running(obj):
            options["description"] = (
                "Active contracts run on this plan, or open offers promise its terms, so its "
                "included hours, overage rate, coverage, calendar, term length and targets are "
                "fixed until they end. To sell different terms, use "
                "“Copy as new plans” on the plan list, edit and offer the copy, and stop "
                "offering this one. A new price applies to new offers and contracts only."
            )
        if obj is None:
            terms = ["terms_summary", "terms_text"]
            note = "Leave both blank for the practice's standard terms, worded from the plan's figures."
        elif self.has_change_permission(request, obj):
            terms = ["terms_version_shown", "terms_summary", "terms_text", "earlier_terms"]
            note = TERMS_NOTE
        else:
            terms, note = TERMS_DISPLAYS, ""
        return [(None, options), ("Contract terms", {"fields": terms, "description": note})]

    def save_model(self, request: HttpRequest, obj: ContractPlan, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        summary, text = form.terms_to_save()
        plan_terms_set(plan=obj, summary=summary, text=text, by=request.user)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The plan's changes, and its targets' below them (the terms keep their own versions,
        each with its author, on the plan's page)."""
        targets = list(
            ServiceLevel.history.filter(plan_id=self.object_key(object_id))
            .select_related("history_user")
            .order_by("-history_date", "-history_id")[:TARGET_HISTORY_LINES]
        )
        for target in targets:
            # Which target, without the plan that str() would fetch for each line.
            target.label = Priority(target.priority).label
        context = {"target_records": with_changes(ServiceLevel, targets), **(extra_context or {})}
        return super().history_view(request, object_id, context)

    @admin.display(description="Current version")
    def terms_version_shown(self, obj: ContractPlan) -> str:
        versions = _terms_versions(obj)
        if not versions:
            return "None yet: saving the plan gives it its standard terms."
        return self._version_line(versions[0])

    @admin.display(description="Terms in short")
    def terms_summary_shown(self, obj: ContractPlan) -> str:
        versions = _terms_versions(obj)
        return versions[0].summary if versions else "-"

    @admin.display(description="Terms in full")
    def terms_text_shown(self, obj: ContractPlan) -> str:
        versions = _terms_versions(obj)
        return versions[0].text if versions else "-"

    @admin.display(description="Earlier versions")
    def earlier_terms(self, obj: ContractPlan) -> str:
        earlier = _terms_versions(obj)[1:]
        if not earlier:
            return "None."
        return format_html_join(
            "",
            '<details class="terms-version"><summary>{}</summary><p><strong>In short:</strong> '
            "{}</p>{}</details>",
            (
                (self._version_line(v), v.summary, linebreaks_filter(v.text, autoescape=True))
                for v in earlier
            ),
        )

    @staticmethod
    def _version_line(terms: ContractTerms) -> str:
        # The anchor is where an offer's "terms version" link lands.
        by = f", by {staff_name(terms.created_by)}" if terms.created_by else ""
        return format_html(
            '<span id="terms-version-{}">Version {}, of {}{}</span>',
            terms.version,
            terms.version,
            f"{timezone.localtime(terms.created_at):%-d %B %Y}",
            by,
        )

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
