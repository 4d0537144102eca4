"""Start each existing client's history from the records kept before it existed.

Contracts started, renewed and ended, offers answered, and drops are all recorded with their
dates; who made them is not, so these lines have no `by` and say where they came from. Opt-outs
carry no date and are left out. The wording is the services' own (contracts/history.py).
"""

from __future__ import annotations

from django.db import migrations

from clients.services import dropped_summary
from contracts import history

BATCH = 2000
SOURCE = " (from earlier records)"


def backfill(apps, schema_editor):
    client_event = apps.get_model("clients", "ClientEvent")
    contract_model = apps.get_model("contracts", "ServiceContract")
    offer_model = apps.get_model("contracts", "ConversionOffer")
    client_model = apps.get_model("clients", "Client")
    rows = []

    def add(client_id, kind, summary, at):
        rows.append(
            client_event(client_id=client_id, kind=kind, summary=(summary + SOURCE)[:500], at=at)
        )
        if len(rows) >= BATCH:
            client_event.objects.bulk_create(rows)
            rows.clear()

    renewed = set(
        contract_model.objects.filter(renewed_from__isnull=False).values_list(
            "renewed_from_id", flat=True
        )
    )
    for contract in contract_model.objects.select_related("plan").order_by("pk").iterator():
        if contract.renewed_from_id is not None:
            add(
                contract.client_id,
                "contract_renewed",
                history.contract_renewed(contract),
                contract.created_at,
            )
        else:
            add(
                contract.client_id,
                "contract_started",
                history.contract_started(contract, from_offer=contract.offer_id is not None),
                contract.created_at,
            )
        # A renewed term's end is the next term's start, not an event of its own.
        if contract.status != "active" and contract.pk not in renewed and contract.ended_at:
            kind = "contract_cancelled" if contract.status == "cancelled" else "contract_ended"
            add(contract.client_id, kind, history.contract_ended(contract), contract.ended_at)

    answered = offer_model.objects.filter(
        status__in=["accepted", "declined"], responded_at__isnull=False
    )
    for offer in answered.select_related("plan").order_by("pk").iterator():
        if offer.status == "accepted":
            add(
                offer.client_id,
                "offer_accepted",
                history.offer_accepted(offer, offer.accepted_ip),
                offer.responded_at,
            )
        else:
            add(
                offer.client_id, "offer_declined", history.offer_declined(offer), offer.responded_at
            )

    dropped = client_model.objects.filter(status="dropped", dropped_at__isnull=False)
    for client in dropped.order_by("pk").iterator():
        add(client.pk, "dropped", dropped_summary(client.drop_reason), client.dropped_at)

    client_event.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0004_campaign_schedule"),
        ("clients", "0003_client_events"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
