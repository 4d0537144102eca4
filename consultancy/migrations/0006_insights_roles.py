"""Managers see the insights and set their targets; consultants do not."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations

# The permission helpers of the migration before (a migration's module name starts with a digit,
# so it is imported by name; its helpers are as frozen as it is).
roles = import_module("consultancy.migrations.0005_terms_and_renewal_roles")

GRANTS = {"Managers": {"insights": {"insightssettings": "change view"}}}


def grant(apps, schema_editor):
    roles._create_all_permissions(apps)
    roles._grant(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consultancy", "0005_terms_and_renewal_roles"),
        ("insights", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
