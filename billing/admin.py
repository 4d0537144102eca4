"""Billing in the Django admin: the rate card, the one row of prices and invoice terms that
managers edit."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from billing.models import RateCard

# --- The rate card -----------------------------------------------------------------------------
NEW_WORK_ONLY = (
    "A change applies to new work only: every charge stores the rate it was priced at, so "
    "charges already on the ledger keep theirs."
)


class RateCardForm(forms.ModelForm):
    class Meta:
        model = RateCard
        fields = [
            "hourly_rate",
            "after_hours_rate",
            "calendar",
            "paid_priority_surcharge",
            "payment_terms_days",
            "issue_after_run",
            "sales_account_code",
            "tax_type",
        ]
        # The validators' own words ("greater than or equal to 0") say less than these.
        error_messages = {
            "hourly_rate": {"min_value": "A rate cannot be negative."},
            "after_hours_rate": {
                "min_value": "A rate cannot be negative; leave it empty to charge the hourly "
                "rate at any time."
            },
            "paid_priority_surcharge": {
                "min_value": "The surcharge must be at least $0.01: paid priority is never free."
            },
            "payment_terms_days": {"max_value": "Payment terms are at most 365 days."},
        }


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    """The single row of rates and invoice terms: the changelist goes straight to it."""

    form = RateCardForm
    fieldsets = [
        (
            "Rates",
            {
                "fields": [
                    "hourly_rate",
                    "after_hours_rate",
                    "calendar",
                    "paid_priority_surcharge",
                ],
                "description": NEW_WORK_ONLY,
            },
        ),
        ("Invoices", {"fields": ["payment_terms_days", "issue_after_run"]}),
        ("Accounting export", {"fields": ["sales_account_code", "tax_type"]}),
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
        return redirect("admin:billing_ratecard_change", 1)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if self.has_view_or_change_permission(request):
            RateCard.load()  # made from the settings the first time anyone looks
        return super().change_view(request, object_id, form_url, extra_context)
