"""Admin for contacts and charges. The client admin lives in contracts/admin.py: its page shows
contracts too, and clients must not import the app above it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from clients.models import Charge, ClientEvent, Contact


class ContactInlineFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        # Each form checks one_primary_contact_per_client against the database only, so two
        # new contacts both ticked primary pass validation and then fail the constraint on save
        # (a server error). Count the primaries across the whole formset instead.
        primaries = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise ValidationError("Only one contact can be the primary contact.")


class ContactInline(admin.TabularInline):
    model = Contact
    formset = ContactInlineFormSet
    extra = 0
    fields = ["name", "email", "phone", "is_primary"]


@admin.register(ClientEvent)
class ClientEventAdmin(admin.ModelAdmin):
    """The practice's log of standing changes: drops, contracts, offers answered."""

    list_display = ["at", "client", "kind", "summary", "by"]
    list_select_related = ["client", "by"]
    list_filter = ["kind"]
    search_fields = ["client__name", "summary"]
    date_hierarchy = "at"
    list_per_page = 50
    # The log only grows: one count of the filtered rows, not a second of the whole table.
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "client", "kind", "amount", "description"]
    list_select_related = ["client"]
    list_filter = ["kind"]
    search_fields = ["client__name", "description"]
    autocomplete_fields = ["client"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["created_by"]
    list_per_page = 50

    def save_model(self, request: HttpRequest, obj: Charge, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "client", "is_primary"]
    list_select_related = ["client"]
    search_fields = ["name", "email", "client__name"]
    autocomplete_fields = ["client"]
    list_filter = ["is_primary"]
