"""Start each existing client's history from the records kept before it existed.

Contracts started, renewed and ended, offers answered, and drops are all recorded with their
dates; who made them is not, so these lines have no `by` and say where they came from. Opt-outs
carry no date and are left out. The wording is the services' own at the time of writing
(contracts/history.py then), copied here so that a later change to those services cannot change
what this migration does.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import migrations

BATCH = 2000
SOURCE = " (from earlier records)"


def _percent(percent):
    return f"{Decimal(percent).normalize():f}%"


def _price_terms(plan_name, monthly_price, discount_percent, label):
    discount = f" ({_percent(discount_percent)} {label})" if discount_percent else ""
    return f"{plan_name} at ${monthly_price:,.2f} a month{discount}"


def _contract_terms(contract):
    price = _price_terms(
        contract.plan.name, contract.monthly_price, contract.discount_percent, "off"
    )
    return f"{price}, {contract.starts_on:%Y-%m-%d} to {contract.ends_on:%Y-%m-%d}"


def _offer_terms(offer):
    return _price_terms(
        offer.plan.name, offer.monthly_price, offer.discount_percent, "loyalty discount"
    )


def _contract_ended(contract):
    verb = "Cancelled" if contract.status == "cancelled" else "Ended"
    return f"{verb} {contract.plan.name}: {contract.end_reason}"


def _dropped(reason):
    return f"Dropped: {reason}" if reason else "Dropped"


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
                f"Renewed {_contract_terms(contract)}",
                contract.created_at,
            )
        else:
            add(
                contract.client_id,
                "contract_started",
                f"Started {_contract_terms(contract)}"
                + (" from the offer the client accepted" if contract.offer_id else ""),
                contract.created_at,
            )
        # A renewed term's end is the next term's start, not an event of its own.
        if contract.status != "active" and contract.pk not in renewed and contract.ended_at:
            kind = "contract_cancelled" if contract.status == "cancelled" else "contract_ended"
            add(contract.client_id, kind, _contract_ended(contract), contract.ended_at)

    answered = offer_model.objects.filter(
        status__in=["accepted", "declined"], responded_at__isnull=False
    )
    for offer in answered.select_related("plan").order_by("pk").iterator():
        if offer.status == "accepted":
            add(
                offer.client_id,
                "offer_accepted",
                f"Accepted {_offer_terms(offer)} online, "
                f"from {offer.accepted_ip or 'an unknown address'}",
                offer.responded_at,
            )
        else:
            add(
                offer.client_id,
                "offer_declined",
                f"Declined {_offer_terms(offer)}",
                offer.responded_at,
            )

    dropped = client_model.objects.filter(status="dropped", dropped_at__isnull=False)
    for client in dropped.order_by("pk").iterator():
        add(client.pk, "dropped", _dropped(client.drop_reason), client.dropped_at)

    client_event.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0004_campaign_schedule"),
        ("clients", "0003_client_events"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
