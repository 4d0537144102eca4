"""Schedule the outbox sweep every minute: it queues the emails no worker delivered (a publish
that failed while the broker was down, a worker that died, a retry whose time has come)."""

from __future__ import annotations

from django.db import migrations

NAME = "Email outbox sweep"


def schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "clients.tasks.outbox_sweep_task",
            "interval": every,
            "description": "Queue the emails no worker delivered: pending for a minute, due "
            "for another try, or claimed by a worker that died.",
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0007_outbound_email"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
