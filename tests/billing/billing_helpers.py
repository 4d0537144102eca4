"""What the billing tests share: the month that has ended on the suite's clock, an issued
invoice, a billing run, and the invoice admin's addresses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from billing.invoicing import invoices_issue
from billing.models import BillingRun, Invoice, InvoiceKind
from billing.periods import Period
from billing.run import billing_run
from clients.models import Client
from tests.conftest import DAY, NOW
from tests.factories import ChargeFactory, ClientFactory, ContractFactory, PlanFactory, UserFactory

FEBRUARY = Period(2025, 2)  # the last month that has ended on the suite's clock (10 March)
INVOICES = reverse("admin:billing_invoice_changelist")


def issued_invoice(client: Client | None = None, *amounts: str) -> Invoice:
    """Issue `client`'s February invoice for charges of `amounts` (one of $125.00 by default)."""
    client = client or ClientFactory()
    for amount in amounts or ("125.00",):
        ChargeFactory(client=client, amount=Decimal(amount), occurred_at=NOW - 30 * DAY)
    invoices_issue(period=FEBRUARY, client_ids=[client.pk], now=NOW)
    return Invoice.objects.get(client=client, kind=InvoiceKind.INVOICE)


def billed_run(contracts: int = 1) -> BillingRun:
    """Bill February for `contracts` new contracts ($500.00 a month each), run by a staff member."""
    for _ in range(contracts):
        ContractFactory(plan=PlanFactory(), starts_on=dt.date(2025, 1, 1))
    billing_run(period=FEBRUARY, by=UserFactory(), now=NOW)
    return BillingRun.objects.latest("pk")


def invoice_page(invoice: Invoice) -> str:
    return reverse("admin:billing_invoice_change", args=[invoice.pk])
