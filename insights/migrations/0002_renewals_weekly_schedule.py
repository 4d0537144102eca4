"""The managers' weekly renewals email in the beat schedule (managers change it in the admin).

07:00 on Mondays, in the practice's time zone: the week's list is waiting when they start.
"""

from __future__ import annotations

from django.conf import settings
from django.db import migrations

NAME = "Weekly renewals email to managers"


def schedule(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = Crontab.objects.get_or_create(
        minute="0",
        hour="7",
        day_of_month="*",
        month_of_year="*",
        day_of_week="1",
        timezone=settings.TIME_ZONE,
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "insights.tasks.renewals_weekly_task",
            "crontab": crontab,
            "description": "Email the managers the contracts whose term ends in the next 60 "
            "days, with their renewal mode and the price after renewal.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
