"""Admin for contacts and charges. The client admin lives in contracts/admin.py: its page shows
contracts too, and clients must not import the app above it."""

from __future__ import annotations

from django.contrib import admin

from clients.models import Charge, Contact


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ["name", "email", "phone", "is_primary"]


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

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "client", "is_primary"]
    list_select_related = ["client"]
    search_fields = ["name", "email", "client__name"]
    autocomplete_fields = ["client"]
    list_filter = ["is_primary"]
