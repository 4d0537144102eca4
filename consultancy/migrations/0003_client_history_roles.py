"""Let both roles read a client's history (it is written only by the services)."""

from __future__ import annotations

from django.db import migrations

from consultancy.grants import grant_roles

READ_HISTORY = {"clients": {"clientevent": "view"}}
GRANTS = {"Managers": READ_HISTORY, "Consultants": READ_HISTORY}


class Migration(migrations.Migration):
    dependencies = [("consultancy", "0002_offer_roles"), ("clients", "0003_client_events")]

    operations = [grant_roles(GRANTS)]
