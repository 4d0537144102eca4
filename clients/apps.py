from __future__ import annotations

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Clients"

    def ready(self) -> None:
        # The admin's filter for fields with choices, for every ModelAdmin (the lowest app
        # registers it, so it is in place whichever admin module loads first).
        from clients import admin_filters  # noqa: F401
