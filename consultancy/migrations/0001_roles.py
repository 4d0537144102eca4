"""Create the Managers and Consultants groups with their permissions.

Like every migration here it carries what it needs (no import of app code): a later change to
the app cannot change what an old migration does.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _create_all_permissions(apps):
    """Create every historical model's permissions now: they are normally made after all
    migrations ran (post_migrate), and a fresh database needs them to hand them out here."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _grant(apps, grants):
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, spec in grants.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        for app_label, models in spec.items():
            for model, actions in models.items():
                for action in actions.split():
                    group.permissions.add(
                        permission_model.objects.get(
                            content_type__app_label=app_label, codename=f"{action}_{model}"
                        )
                    )


# (app label, model, actions) per group. Managers run the business; consultants work tickets,
# keep client records current and read (never change) plans and contracts.
MANAGER_PERMISSIONS = {
    "clients": {
        "client": "add change delete view",
        "contact": "add change delete view",
        "charge": "add change delete view",
    },
    "contracts": {
        "businesscalendar": "add change delete view",
        "holiday": "add change delete view",
        "contractplan": "add change delete view",
        "servicelevel": "add change delete view",
        "servicecontract": "add change view",
    },
    "tickets": {"ticket": "add change view", "ticketevent": "view", "timeentry": "view"},
    "django_celery_beat": {
        "periodictask": "add change delete view",
        "crontabschedule": "add change delete view",
        "intervalschedule": "add change delete view",
        "clockedschedule": "add change delete view",
        "solarschedule": "add change delete view",
    },
    "auth": {"user": "view"},
}
CONSULTANT_PERMISSIONS = {
    "clients": {"client": "add change view", "contact": "add change view", "charge": "view"},
    "contracts": {
        "businesscalendar": "view",
        "holiday": "view",
        "contractplan": "view",
        "servicelevel": "view",
        "servicecontract": "view",
    },
    "tickets": {"ticket": "add change view", "ticketevent": "view", "timeentry": "view"},
}


GRANTS = {"Managers": MANAGER_PERMISSIONS, "Consultants": CONSULTANT_PERMISSIONS}


def create_roles(apps, schema_editor):
    _create_all_permissions(apps)
    _grant(apps, GRANTS)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Managers", "Consultants"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("clients", "0001_initial"),
        ("contracts", "0002_default_calendar"),
        ("tickets", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
