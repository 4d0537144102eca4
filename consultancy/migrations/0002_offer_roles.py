"""Give the roles their permissions on conversion offers and campaigns."""

from __future__ import annotations

from django.db import migrations

from consultancy.grants import add_group_permissions, create_all_permissions

GRANTS = {
    "Managers": {
        "contracts": {
            "conversionoffer": "change view",
            "campaignrun": "view",
            "campaignsettings": "change view",
        },
    },
    "Consultants": {"contracts": {"conversionoffer": "view"}},
}


def grant(apps, schema_editor):
    create_all_permissions(apps)
    add_group_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0001_roles"), ("contracts", "0004_campaign_schedule")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
