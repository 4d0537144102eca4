"""What a client spent: the trailing-twelve-months annotation and the ledger's totals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clients.models import Charge, ChargeKind, Client, trailing_year_start
from tests.conftest import NOW
from tests.factories import ChargeFactory, ClientFactory

pytestmark = pytest.mark.django_db

YEAR = dt.timedelta(days=365)


def _spend(client: Client, **kwargs: Any) -> Decimal:
    return Client.objects.with_trailing_spend(**kwargs).get(pk=client.pk).trailing_spend


def test_trailing_spend_counts_only_the_last_365_days(now):
    client = ClientFactory()
    second = dt.timedelta(seconds=1)
    for amount, ago in [
        ("100.00", dt.timedelta(days=1)),
        ("250.50", dt.timedelta(days=364)),
        ("1.25", YEAR),  # the first instant of the window
        ("9999.00", YEAR + second),  # the instant before it
        ("5000.00", dt.timedelta(days=700)),
    ]:
        ChargeFactory(client=client, amount=Decimal(amount), occurred_at=NOW - ago)

    assert _spend(client) == Decimal("351.75")


def test_trailing_spend_leaves_out_contract_fees_and_other_sales(now):
    # Spend is what a contract would replace; the fees of a contract held once, and hardware
    # sold, are not.
    client = ClientFactory()
    ChargeFactory(client=client, kind=ChargeKind.LABOUR, amount=Decimal("250.00"))
    ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    ChargeFactory(client=client, kind=ChargeKind.CONTRACT_FEE, amount=Decimal("600.00"))
    ChargeFactory(client=client, kind=ChargeKind.OTHER, amount=Decimal("1899.00"))

    assert _spend(client) == Decimal("325.00")


def test_trailing_spend_is_zero_for_a_client_who_was_never_billed(now):
    client = ClientFactory()

    spend = _spend(client)

    assert spend == Decimal("0.00")
    assert isinstance(spend, Decimal)


def test_trailing_spend_is_zero_when_every_charge_is_older_than_a_year(now):
    client = ClientFactory()
    ChargeFactory(client=client, occurred_at=NOW - dt.timedelta(days=400))

    assert _spend(client) == Decimal("0.00")


def test_trailing_spend_is_per_client(now):
    big, small, none = ClientFactory(), ClientFactory(), ClientFactory()
    for _ in range(3):
        ChargeFactory(client=big, amount=Decimal("1000.00"))
    ChargeFactory(client=small, amount=Decimal("125.00"))
    ChargeFactory(client=small, amount=Decimal("75.00"))

    spend = dict(Client.objects.with_trailing_spend().values_list("pk", "trailing_spend"))

    assert spend == {big.pk: Decimal("3000.00"), small.pk: Decimal("200.00"), none.pk: 0}


def test_trailing_spend_moves_with_the_clock(now, time_machine):
    client = ClientFactory()
    ChargeFactory(client=client, amount=Decimal("400.00"), occurred_at=NOW - dt.timedelta(days=300))

    time_machine.move_to(NOW + dt.timedelta(days=100), tick=False)

    assert _spend(client) == Decimal("0.00")


def test_trailing_spend_can_be_taken_at_a_given_moment(now):
    client = ClientFactory()
    ChargeFactory(client=client, amount=Decimal("400.00"), occurred_at=NOW - dt.timedelta(days=300))

    assert _spend(client, now=NOW - dt.timedelta(days=200)) == Decimal("400.00")
    assert _spend(client, now=NOW + dt.timedelta(days=100)) == Decimal("0.00")


def test_trailing_spend_does_not_multiply_rows_beside_other_joins(now):
    # The annotation is a subquery, so joining contacts (search, say) cannot double the sum.
    client = ClientFactory()
    ChargeFactory(client=client, amount=Decimal("100.00"))
    client.contacts.create(name="A", email="a@client.example", is_primary=True)
    client.contacts.create(name="B", email="b@client.example")

    rows = list(
        Client.objects.with_trailing_spend()
        .filter(contacts__email__endswith="client.example")
        .values_list("trailing_spend", flat=True)
    )

    assert rows == [Decimal("100.00"), Decimal("100.00")]


def test_ledger_total_for_the_trailing_year(now):
    client = ClientFactory()
    ChargeFactory(client=client, amount=Decimal("10.00"), occurred_at=NOW - dt.timedelta(days=10))
    ChargeFactory(client=client, amount=Decimal("20.00"), occurred_at=NOW - dt.timedelta(days=400))

    assert client.charges.trailing_year().total() == Decimal("10.00")
    assert client.charges.total() == Decimal("30.00")
    assert Charge.objects.none().total() == Decimal("0.00")


def test_trailing_year_starts_365_days_before_now(now):
    assert trailing_year_start() == NOW - YEAR
    assert trailing_year_start(NOW + YEAR) == NOW
