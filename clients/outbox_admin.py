"""The outbox in the admin: what was sent, what waits for another try, and what no server would
take (registered from ClientsConfig.ready: clients/admin.py is at its size limit).

Managers read it and may send an undeliverable email again once its cause is fixed; nobody
writes a row by hand. The dashboard's headline links here with the undeliverable filter.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import Truncator

from clients.admin_readonly import ReadOnlyAdmin
from clients.models import EmailStatus, OutboundEmail
from clients.outbox import outbox_send_again


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "to",
        "short_subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    ]
    list_select_related = ["client"]
    list_filter = ["status", "kind"]
    search_fields = ["to", "subject", "key"]
    ordering = ["-created_at", "-pk"]
    list_per_page = 50
    # The outbox only grows: one count of the filtered rows, not a second of the whole table.
    show_full_result_count = False
    actions = ["send_again"]
    fields = (
        "kind",
        "client",
        "to",
        "from_email",
        "subject",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "key",
        "headers",
        "text",
        "html",
    )
    readonly_fields = fields

    @admin.display(description="subject")
    def short_subject(self, email: OutboundEmail) -> str:
        return Truncator(email.subject).chars(60)

    @admin.display(description="last error")
    def short_error(self, email: OutboundEmail) -> str:
        return Truncator(email.last_error).chars(80)

    @admin.action(description="Send again (undeliverable emails)", permissions=["send_again"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        asked = list(queryset.values_list("pk", flat=True))
        again = outbox_send_again(asked)
        if again:
            messages.success(request, f"{len(again)} email(s) will be sent again.")
        if skipped := len(asked) - len(again):
            messages.warning(
                request,
                f"{skipped} email(s) left as they were: only an undeliverable email is sent "
                f"again ({EmailStatus.UNDELIVERABLE.label.lower()} ones).",
            )

    def has_send_again_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("clients.change_outboundemail"))
