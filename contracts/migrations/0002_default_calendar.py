"""Give a fresh install one business calendar, so a manager can create plans on day one."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import migrations


def create_default_calendar(apps, schema_editor):
    BusinessCalendar = apps.get_model("contracts", "BusinessCalendar")
    BusinessCalendar.objects.get_or_create(
        name="Office hours",
        defaults={
            "timezone": settings.TIME_ZONE,
            "opens_at": dt.time(8, 0),
            "closes_at": dt.time(18, 0),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(create_default_calendar, migrations.RunPython.noop)]
