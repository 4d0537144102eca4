"""Managers may export everything held about a client and erase its personal data; consultants
may not."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations

# The permission helpers of an earlier migration (its module name starts with a digit, so it is
# imported by name; its helpers are as frozen as it is).
roles = import_module("consultancy.migrations.0005_terms_and_renewal_roles")

GRANTS = {"Managers": {"clients": {"client": "export erase"}}}


def grant(apps, schema_editor):
    roles._create_all_permissions(apps)
    roles._grant(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consultancy", "0007_lockout_roles"),
        ("clients", "0006_client_data_rights"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
