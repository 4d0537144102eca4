from __future__ import annotations

from django.contrib import admin

from clients.admin import SingleRowAdmin
from insights.models import InsightsSettings


@admin.register(InsightsSettings)
class InsightsSettingsAdmin(SingleRowAdmin):
    """The single row of the manager's targets: the changelist goes straight to it."""

    fields = ["recurring_share_target_percent"]
