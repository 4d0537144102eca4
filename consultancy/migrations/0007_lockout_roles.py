"""Managers see failed and successful sign-ins and unlock a locked-out one (django-axes): an
unlock is deleting the failed attempts that lock it."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations

# The permission helpers of an earlier role migration (a migration's module name starts with a
# digit, so it is imported by name; its helpers are as frozen as it is).
roles = import_module("consultancy.migrations.0005_terms_and_renewal_roles")

GRANTS = {"Managers": {"axes": {"accessattempt": "delete view", "accesslog": "view"}}}


def grant(apps, schema_editor):
    roles._create_all_permissions(apps)
    roles._grant(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consultancy", "0006_insights_roles"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
