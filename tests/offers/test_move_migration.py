"""The conversion engine moved from `contracts` to `offers` (contracts 0006, offers 0001-0003):
a database holding offers, runs and contracts upgrades in place and keeps every row and link.

Runs on SQLite and on PostgreSQL (the CI's second pass): the tables are renamed, and the two
databases rename tables and their foreign keys in different ways.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_celery_beat.models import PeriodicTask

from contracts.models import ServiceContract
from offers.models import CampaignRun, CampaignSettings, ConversionOffer, OfferStatus
from tests.conftest import NOW

BEFORE_THE_MOVE = [("contracts", "0005_client_history_backfill"), ("offers", None)]


def _migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate to `targets` and return the historical apps of the state reached."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(list(executor.loader.applied_migrations)).apps


def _latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    # The move re-created content types behind the cache of any earlier test in this process.
    ContentType.objects.clear_cache()


def _offer(apps: Any, **fields: Any) -> Any:
    terms = {
        "list_price": Decimal("490.00"),
        "discount_percent": Decimal("10.00"),
        "monthly_price": Decimal("441.00"),
        "trailing_labour": Decimal("6000.00"),
        "trailing_priority": Decimal("150.00"),
        "trailing_spend": Decimal("6150.00"),
        "trailing_hours": Decimal("48.00"),
        "trailing_tickets": 9,
        "priority_purchases": 2,
        "contract_cost": Decimal("5292.00"),
        "created_at": NOW,
        "expires_at": NOW + dt.timedelta(days=21),
    }
    return apps.get_model("contracts", "ConversionOffer").objects.create(**terms, **fields)


def _old_practice(apps: Any) -> dict[str, Any]:
    """A practice as the last release kept it, written through the historical models."""
    user = apps.get_model("auth", "User").objects.create(username="morgan", is_staff=True)
    calendar = apps.get_model("contracts", "BusinessCalendar").objects.create(name="Office")
    plan = apps.get_model("contracts", "ContractPlan").objects.create(
        name="Standard",
        monthly_price=Decimal("490.00"),
        included_hours=Decimal("8.00"),
        overage_hourly_rate=Decimal("110.00"),
        calendar=calendar,
    )
    client_model = apps.get_model("clients", "Client")
    acme, bolt, cedar = (client_model.objects.create(name=n) for n in ("Acme", "Bolt", "Cedar"))
    contact = apps.get_model("clients", "Contact").objects.create(
        client=acme, name="Ana Adams", email="ana@acme.example", is_primary=True
    )
    run = apps.get_model("contracts", "CampaignRun").objects.create(
        started_at=NOW, trigger="manual", eligible_clients=3, offers_created=3, triggered_by=user
    )
    accepted = _offer(
        apps,
        client=acme,
        contact=contact,
        email=contact.email,
        plan=plan,
        campaign_run=run,
        status="accepted",
        nonce="n-accepted",
        responded_at=NOW + dt.timedelta(days=2),
        accepted_ip="203.0.113.7",
    )
    declined = _offer(
        apps, client=bolt, email="bo@bolt.example", plan=plan, campaign_run=run,
        status="declined", nonce="n-declined",
    )  # fmt: skip
    open_offer = _offer(
        apps, client=cedar, email="cy@cedar.example", plan=plan, campaign_run=run,
        status="sent", nonce="n-open",
    )  # fmt: skip
    contract_model = apps.get_model("contracts", "ServiceContract")
    from_offer = contract_model.objects.create(
        client=acme, plan=plan, starts_on=dt.date(2025, 3, 12), ends_on=dt.date(2026, 3, 11),
        monthly_price=Decimal("441.00"), discount_percent=Decimal("10.00"), offer=accepted,
    )  # fmt: skip
    by_hand = contract_model.objects.create(
        client=bolt, plan=plan, starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31),
        monthly_price=Decimal("490.00"),
    )  # fmt: skip
    apps.get_model("contracts", "CampaignSettings").objects.update_or_create(
        pk=1, defaults={"cooldown_days": 45}
    )
    # The schedule as the last release left it (a test before may have flushed the rows the
    # schedule migration made).
    every_week = apps.get_model("django_celery_beat", "IntervalSchedule").objects.create(
        every=7, period="days"
    )
    apps.get_model("django_celery_beat", "PeriodicTask").objects.update_or_create(
        name="Conversion campaign",
        defaults={"task": "contracts.tasks.campaign_run_task", "interval": every_week},
    )
    offer_type = apps.get_model("contenttypes", "ContentType").objects.get(
        app_label="contracts", model="conversionoffer"
    )
    # The Managers' grant on offers, as the role migrations made it (a flush may have removed it).
    change_offers, _ = apps.get_model("auth", "Permission").objects.get_or_create(
        content_type=offer_type,
        codename="change_conversionoffer",
        defaults={"name": "Can change conversion offer"},
    )
    managers, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Managers")
    managers.permissions.add(change_offers)
    apps.get_model("admin", "LogEntry").objects.create(
        user=user,
        content_type=offer_type,
        object_id=str(open_offer.pk),
        object_repr="Offer of Standard to Cedar",
        action_flag=2,
        change_message="[]",
    )
    return {
        "accepted": accepted.pk,
        "declined": declined.pk,
        "open": open_offer.pk,
        "run": run.pk,
        "from_offer": from_offer.pk,
        "by_hand": by_hand.pk,
        "user": user.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_an_existing_database_keeps_every_offer_run_and_link_through_the_move():
    old = _old_practice(_migrate(BEFORE_THE_MOVE))

    _latest()

    offers = {o.pk: o for o in ConversionOffer.objects.select_related("campaign_run", "plan")}
    assert set(offers) == {old["accepted"], old["declined"], old["open"]}
    accepted, declined, open_offer = (offers[old[k]] for k in ("accepted", "declined", "open"))
    assert (accepted.status, declined.status, open_offer.status) == (
        OfferStatus.ACCEPTED,
        OfferStatus.DECLINED,
        OfferStatus.SENT,
    )
    assert accepted.accepted_ip == "203.0.113.7"
    assert accepted.monthly_price == Decimal("441.00")
    assert accepted.contact.email == "ana@acme.example"
    assert {o.campaign_run.pk for o in offers.values()} == {old["run"]}
    assert {o.plan.name for o in offers.values()} == {"Standard"}
    # The link between an accepted offer and its contract survives, now kept on the offer.
    assert accepted.contract.pk == old["from_offer"]
    assert ServiceContract.objects.get(pk=old["from_offer"]).offer == accepted
    assert not ConversionOffer.objects.filter(contract_id=old["by_hand"]).exists()
    run = CampaignRun.objects.get()
    assert (run.pk, run.offers_created, run.triggered_by.pk) == (old["run"], 3, old["user"])
    assert CampaignSettings.load().cooldown_days == 45
    # The admin's log entry, the roles' permissions and the schedule follow the models.
    entry = LogEntry.objects.get()
    assert entry.content_type == ContentType.objects.get_for_model(ConversionOffer)
    assert entry.get_edited_object() == open_offer
    assert not ContentType.objects.filter(
        app_label="contracts", model__in=["conversionoffer", "campaignrun", "campaignsettings"]
    ).exists()
    managers = Group.objects.get(name="Managers").permissions
    assert managers.filter(
        content_type__app_label="offers", codename="change_conversionoffer"
    ).exists()
    campaign = PeriodicTask.objects.get(name="Conversion campaign")
    assert campaign.task == "offers.tasks.campaign_run_task"
    left_behind = PeriodicTask.objects.filter(task__startswith="contracts.tasks.")
    assert set(left_behind.values_list("task", flat=True)) <= {
        "contracts.tasks.contracts_roll_over_task",
        "contracts.tasks.renewal_notices_task",  # contracts' own, added after the move
    }


@pytest.mark.django_db(transaction=True)
def test_the_move_can_be_undone_with_the_links_back_on_the_contracts():
    _migrate(BEFORE_THE_MOVE)
    _latest()
    apps = _migrate(BEFORE_THE_MOVE)
    old = _old_practice(apps)
    _latest()

    back = _migrate(BEFORE_THE_MOVE)

    contract = back.get_model("contracts", "ServiceContract").objects.get(pk=old["from_offer"])
    assert contract.offer_id == old["accepted"]
    assert back.get_model("contracts", "ConversionOffer").objects.count() == 3
    assert (
        back.get_model("django_celery_beat", "PeriodicTask")
        .objects.filter(task="contracts.tasks.campaign_run_task")
        .exists()
    )
    _latest()
    assert ConversionOffer.objects.get(pk=old["accepted"]).contract.pk == old["from_offer"]
