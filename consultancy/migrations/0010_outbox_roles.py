"""Managers read the email outbox and may send an undeliverable email again; consultants do not
see it (it holds every client's emails)."""

from __future__ import annotations

from importlib import import_module

from django.db import migrations

# The permission helpers of an earlier migration (its module name starts with a digit, so it is
# imported by name; its helpers are as frozen as it is).
roles = import_module("consultancy.migrations.0005_terms_and_renewal_roles")

GRANTS = {"Managers": {"clients": {"outboundemail": "change view"}}}


def grant(apps, schema_editor):
    roles._create_all_permissions(apps)
    roles._grant(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("consultancy", "0009_user_history"),
        ("clients", "0007_outbound_email"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
