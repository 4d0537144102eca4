"""The monthly billing run in the beat schedule (managers change it in the admin).

06:00 on the 1st, in the practice's time zone: it bills the month that just ended, and any
month a stopped worker missed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

NAME = "Monthly billing run"


def schedule(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = Crontab.objects.get_or_create(
        minute="0",
        hour="6",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "billing.tasks.billing_run_task",
            "crontab": crontab,
            "description": "Post each contract's monthly fee and overage for the month that "
            "ended (and any month missed); issue the invoices if the rate card says so.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
