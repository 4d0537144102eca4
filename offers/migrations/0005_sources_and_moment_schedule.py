"""Offers made before sources were recorded: those of no campaign run were sent by a manager;
runs count their offers as savings offers (the only kind there was). The moment-of-need scan is
scheduled every 15 minutes (managers can change it in the admin), so an offer follows a need
within the hour."""

from __future__ import annotations

from django.db import migrations
from django.db.models import F

NAME = "Moment-of-need offers"


def forwards(apps, schema_editor):
    offer = apps.get_model("offers", "ConversionOffer")
    offer.objects.filter(campaign_run__isnull=True).update(source="manual")
    apps.get_model("offers", "CampaignRun").objects.update(savings_offers=F("offers_created"))
    interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = interval.objects.get_or_create(every=15, period="minutes")
    periodic_task.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "offers.tasks.moment_offers_task",
            "interval": every,
            "description": "Offer a contract to transactional clients who just bought paid "
            "priority or waited too long for a first response.",
        },
    )


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0004_kinds_terms_and_signer"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
