"""The rate card's one row, seeded from PRACTICE_HOURLY_RATE and PRACTICE_PAID_PRIORITY_SURCHARGE.

After this the admin is the truth: the variables are read only when the row is missing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    calendar = apps.get_model("contracts", "BusinessCalendar").objects.order_by("pk").first()
    apps.get_model("billing", "RateCard").objects.get_or_create(
        pk=1,
        defaults={
            "hourly_rate": settings.HOURLY_RATE,
            "paid_priority_surcharge": settings.PAID_PRIORITY_SURCHARGE,
            "calendar": calendar,
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0002_monthly_schedule"),
        ("contracts", "0006_offers_move_to_their_app"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
