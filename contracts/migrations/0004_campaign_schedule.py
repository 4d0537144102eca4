"""The campaign rules row and the default schedule (managers change both in the admin).

Campaign: Mondays 09:00. Reminders: daily 10:00. Offer expiry: daily 00:30. Contract roll-over:
daily 00:15. Sweep for offers whose send task was lost: every 10 minutes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

SCHEDULE = [
    ("Conversion campaign", "contracts.tasks.campaign_run_task", {"minute": "0", "hour": "9", "day_of_week": "1"},
     "Offer a contract with a loyalty discount to every eligible transactional client."),
    ("Offer reminders", "contracts.tasks.offers_remind_task", {"minute": "0", "hour": "10", "day_of_week": "*"},
     "Remind clients once, a few days before their offer expires."),
    ("Offer expiry", "contracts.tasks.offers_expire_task", {"minute": "30", "hour": "0", "day_of_week": "*"},
     "Close offers whose time is up."),
    ("Contract roll-over", "contracts.tasks.contracts_roll_over_task", {"minute": "15", "hour": "0", "day_of_week": "*"},
     "Renew automatic contracts whose term ran out; end the others."),
]  # fmt: skip


def schedule(apps, schema_editor):
    apps.get_model("contracts", "CampaignSettings").objects.get_or_create(pk=1)
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, when, description in SCHEDULE:
        crontab, _ = Crontab.objects.get_or_create(
            day_of_month="*", month_of_year="*", timezone=settings.TIME_ZONE, **when
        )
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "description": description}
        )
    every_ten, _ = Interval.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Offer delivery sweep",
        defaults={
            "task": "contracts.tasks.offers_sweep_task",
            "interval": every_ten,
            "description": "Re-queue offers whose send task was lost or whose worker died.",
        },
    )


def unschedule(apps, schema_editor):
    names = [name for name, *_ in SCHEDULE] + ["Offer delivery sweep"]
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0003_conversion_offers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
