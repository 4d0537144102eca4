"""Give the roles their permissions on conversion offers and campaigns."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

MANAGER_PERMISSIONS = {
    "contracts": {
        "conversionoffer": "change view",
        "campaignrun": "view",
        "campaignsettings": "change view",
    },
}
CONSULTANT_PERMISSIONS = {"contracts": {"conversionoffer": "view"}}


def _add(apps, group_name, spec):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    for app_label, models in spec.items():
        for model, actions in models.items():
            for action in actions.split():
                group.permissions.add(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    _add(apps, "Managers", MANAGER_PERMISSIONS)
    _add(apps, "Consultants", CONSULTANT_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0001_roles"), ("contracts", "0004_campaign_schedule")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
