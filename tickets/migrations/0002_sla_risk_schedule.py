"""Schedule the SLA risk scan every five minutes (managers can change it in the admin)."""

from __future__ import annotations

from django.db import migrations


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="SLA risk alerts",
        defaults={
            "task": "tickets.tasks.sla_risk_scan_task",
            "interval": every,
            "description": "Email the assignee (or the managers) once when a contract ticket's deadline is at risk.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name="SLA risk alerts"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
