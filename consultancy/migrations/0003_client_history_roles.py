"""Let both roles read a client's history (it is written only by the services)."""

from __future__ import annotations

from django.db import migrations

from consultancy.grants import add_group_permissions, create_all_permissions

READ_HISTORY = {"clients": {"clientevent": "view"}}
GRANTS = {"Managers": READ_HISTORY, "Consultants": READ_HISTORY}


def grant(apps, schema_editor):
    create_all_permissions(apps)
    add_group_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0002_offer_roles"), ("clients", "0003_client_events")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
