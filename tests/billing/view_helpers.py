"""What the billing page tests share (tests/billing/test_*views.py): February 2025, the month
the suite's clock (10 March 2025) bills, clients with something to bill in it, and a snapshot of
every row a billing request could write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from billing.models import BillingRun, ContractPeriod, Invoice, InvoiceLine
from billing.periods import Period
from clients.models import Charge, ChargeKind, Client
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    PlanFactory,
)

FEB = Period(2025, 2)
MID_FEB = dt.datetime(2025, 2, 14, 15, 0, tzinfo=dt.UTC)


def contract_client(name: str, price: str = "500.00") -> Client:
    """A client on a contract for all of February (and the year after), with a primary contact."""
    client = ClientFactory(name=name)
    ContactFactory(client=client, email=f"{name.split()[0].lower()}@client.example")
    ContractFactory(
        client=client, plan=PlanFactory(monthly_price=Decimal(price)), starts_on=FEB.first_day
    )
    return client


def break_fix_client(name: str, *amounts: str) -> Client:
    """A client without a contract, billed an hour of labour in February per amount."""
    client = ClientFactory(name=name)
    ContactFactory(client=client, email=f"{name.split()[0].lower()}@client.example")
    for amount in amounts or ("125.00",):
        labour(client, amount)
    return client


def labour(client: Client, amount: str = "125.00", when: dt.datetime = MID_FEB) -> Charge:
    return ChargeFactory(
        client=client,
        kind=ChargeKind.LABOUR,
        amount=Decimal(amount),
        rate=Decimal(amount),
        hours=Decimal("1.00"),
        description=f"Labour, 60 min: on-site visit ({amount})",
        occurred_at=when,
    )


def snapshot() -> tuple[Any, ...]:
    """Every row a billing request could write."""
    return (
        Charge.objects.count(),
        BillingRun.objects.count(),
        ContractPeriod.objects.count(),
        list(Invoice.objects.order_by("pk").values_list("pk", "number", "total")),
        InvoiceLine.objects.count(),
    )


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
