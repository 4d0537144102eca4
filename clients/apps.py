from __future__ import annotations

from django.apps import AppConfig

from clients.signals import outbox_written


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        # The admin's filter for fields with choices, for every ModelAdmin (the lowest app
        # registers it, so it is in place whichever admin module loads first), and the
        # outbox's admin page (clients/admin.py is full).
        from clients import admin_filters, outbox_admin, tasks  # noqa: F401

        outbox_written.connect(tasks.on_outbox_written, dispatch_uid="clients.outbox_written")
