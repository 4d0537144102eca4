"""Give the roles their permissions on conversion offers and campaigns."""

from __future__ import annotations

from django.db import migrations

from consultancy.grants import add_group_permissions

MANAGER_PERMISSIONS = {
    "contracts": {
        "conversionoffer": "change view",
        "campaignrun": "view",
        "campaignsettings": "change view",
    },
}
CONSULTANT_PERMISSIONS = {"contracts": {"conversionoffer": "view"}}


def grant(apps, schema_editor):
    add_group_permissions(
        apps, {"Managers": MANAGER_PERMISSIONS, "Consultants": CONSULTANT_PERMISSIONS}
    )


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0001_roles"), ("contracts", "0004_campaign_schedule")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
