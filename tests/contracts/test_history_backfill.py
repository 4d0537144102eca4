"""The migration that starts existing clients' histories from their earlier records
(contracts/migrations/0005_client_history_backfill.py), run on real rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from clients.models import ClientEvent, ClientEventKind
from clients.services import client_drop
from contracts.models import ContractStatus
from offers.models import OfferStatus
from tests.factories import (
    ClientFactory,
    ContractFactory,
    EndedContractFactory,
    OfferFactory,
    PlanFactory,
)

BEFORE = [("contracts", "0004_campaign_schedule")]
BACKFILL = [("contracts", "0005_client_history_backfill")]


def _run_the_backfill() -> None:
    """Step back before the backfill (its reverse changes nothing), run it forward again, and
    then the migrations after it, so the test ends on the schema the models expect."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    executor.migrate(BACKFILL)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_existing_contracts_offers_and_drops_start_the_clients_history():
    plan = PlanFactory(name="Standard", monthly_price=Decimal("490.00"))
    running = ContractFactory(
        plan=plan,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 12, 31),
        discount_percent=Decimal("10.00"),
        monthly_price=Decimal("441.00"),
    )
    first_term = EndedContractFactory(
        plan=plan, starts_on=dt.date(2023, 1, 1), ends_on=dt.date(2023, 12, 31)
    )
    second_term = ContractFactory(
        client=first_term.client,
        plan=plan,
        starts_on=dt.date(2024, 1, 1),
        ends_on=dt.date(2024, 12, 31),
        renewed_from=first_term,
    )
    cancelled = EndedContractFactory(
        plan=plan,
        status=ContractStatus.CANCELLED,
        starts_on=dt.date(2024, 3, 1),
        ends_on=dt.date(2025, 2, 28),
        end_reason="Moved away",
    )
    declined = OfferFactory(
        plan=plan, status=OfferStatus.DECLINED, responded_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    )
    accepted = OfferFactory(
        plan=plan,
        status=OfferStatus.ACCEPTED,
        responded_at=dt.datetime(2025, 2, 2, tzinfo=dt.UTC),
        accepted_ip="203.0.113.7",
    )
    dropped = client_drop(client=ClientFactory(), reason="Never converted")
    ClientEvent.objects.all().delete()  # as before the history existed

    _run_the_backfill()

    def lines(client_id: int) -> list[tuple[str, str]]:
        return list(
            ClientEvent.objects.filter(client_id=client_id)
            .order_by("pk")
            .values_list("kind", "summary")
        )

    earlier = " (from earlier records)"
    assert lines(running.client_id) == [
        (
            ClientEventKind.CONTRACT_STARTED,
            "Started Standard at $441.00 a month (10% off), 2025-01-01 to 2025-12-31" + earlier,
        )
    ]
    # Two terms: started, then renewed; the first term's end is the renewal, not an end.
    assert [kind for kind, _ in lines(second_term.client_id)] == [
        ClientEventKind.CONTRACT_STARTED,
        ClientEventKind.CONTRACT_RENEWED,
    ]
    assert lines(cancelled.client_id)[-1] == (
        ClientEventKind.CONTRACT_CANCELLED,
        "Cancelled Standard: Moved away" + earlier,
    )
    assert lines(declined.client_id) == [
        (
            ClientEventKind.OFFER_DECLINED,
            "Declined Standard at $436.10 a month (11% loyalty discount)" + earlier,
        )
    ]
    assert lines(accepted.client_id) == [
        (
            ClientEventKind.OFFER_ACCEPTED,
            "Accepted Standard at $436.10 a month (11% loyalty discount) online, from "
            "203.0.113.7" + earlier,
        )
    ]
    assert lines(dropped.pk) == [(ClientEventKind.DROPPED, "Dropped: Never converted" + earlier)]
    assert not ClientEvent.objects.exclude(by=None).exists()  # who did it was never recorded
