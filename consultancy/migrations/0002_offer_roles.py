"""Give the roles their permissions on conversion offers and campaigns."""

from __future__ import annotations

from django.db import migrations

from consultancy.grants import grant_roles

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


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0001_roles"), ("contracts", "0004_campaign_schedule")]

    operations = [grant_roles(GRANTS)]
