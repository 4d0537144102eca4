"""Read-only views of tickets and time for managers; ticket work happens in the workspace,
through the ticket services, so that deadlines, history and charges stay true."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from clients.admin import staff_display
from clients.admin_readonly import ReadOnlyAdmin
from tickets.models import Ticket, TicketEvent, TimeEntry


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ("created_at", "kind", "actor_name", "body", "from_value", "to_value")
    readonly_fields = fields
    actor_name = staff_display("actor", "by")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "subject",
        "client",
        "priority",
        "status",
        "queue_tier",
        "assignee_name",
        "opened_at",
        "response_due_at",
    ]
    list_select_related = ["client", "assignee"]
    list_filter = ["status", "priority", "queue_tier", "paid_priority"]
    search_fields = ["subject", "client__name"]
    inlines = [TicketEventInline]
    assignee_name = staff_display("assignee", "assignee")
    list_per_page = 50
    show_full_result_count = False


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "work_date",
        "ticket",
        "consultant_name",
        "minutes",
        "covered_minutes",
        "billable_minutes",
        "charge",
    ]
    list_select_related = ["ticket", "consultant", "charge"]
    consultant_name = staff_display("consultant", "consultant")
    search_fields = ["ticket__subject", "ticket__client__name"]
    list_per_page = 50
    show_full_result_count = False
