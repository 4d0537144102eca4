"""Invoices: one per client and month with everything not yet invoiced, gapless numbers, credit notes."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from billing.invoicing import credit_note_issue, drafts, invoice_balance, invoices_issue
from billing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceSequence
from billing.periods import Period
from billing.run import billing_run
from billing.services import BillingError
from clients.models import Charge, ChargeKind
from tests.billing.conftest import FEBRUARY
from tests.factories import ChargeFactory, ClientFactory
from tests.threads import at_once

pytestmark = pytest.mark.django_db

FEB_20 = dt.datetime(2025, 2, 20, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def billed(practice: dict[str, Any]) -> dict[str, Any]:
    """February billed, plus a break-fix client with labour and paid priority in February."""
    billing_run(period=FEBRUARY)
    breakfix = ClientFactory(name="Acme Dental")
    ChargeFactory(
        client=breakfix, kind=ChargeKind.LABOUR, amount=Decimal("187.50"), occurred_at=FEB_20
    )
    ChargeFactory(
        client=breakfix, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"), occurred_at=FEB_20
    )
    return {**practice, "breakfix": breakfix}


def test_the_drafts_hold_what_each_client_owes_by_kind(billed: dict[str, Any]) -> None:
    rows = {row.client_name: row for row in drafts(FEBRUARY)}

    full = rows[billed["full"].client.name]
    assert full.totals == {
        ChargeKind.CONTRACT_FEE: Decimal("600.00"),
        ChargeKind.OVERAGE: Decimal("200.00"),
    }
    assert full.total == Decimal("800.00")
    breakfix = rows["Acme Dental"]
    assert breakfix.total == Decimal("262.50")
    assert breakfix.charges == 2


def test_issuing_gives_each_client_one_invoice_numbered_without_gaps(
    billed: dict[str, Any], manager: User
) -> None:
    assert invoices_issue(period=FEBRUARY, by=manager) == 4

    invoices = list(Invoice.objects.order_by("sequence"))
    assert [i.number for i in invoices] == [f"INV-2025-0000{n}" for n in range(1, 5)]
    assert all(i.issued_by == manager for i in invoices)
    totals = {i.bill_to: i.total for i in invoices}
    assert totals[billed["full"].client.name] == Decimal("800.00")
    assert totals["Acme Dental"] == Decimal("262.50")
    # Due after the rate card's payment terms (14 days by default).
    assert invoices[0].due_on == dt.date(2025, 3, 24)
    # Every charge of February is on exactly one line, and each invoice adds up.
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()
    for invoice in invoices:
        assert sum(line.amount for line in invoice.lines.all()) == invoice.total
    assert drafts(FEBRUARY) == []


def test_a_labour_line_shows_its_hours_and_rate(billed: dict[str, Any]) -> None:
    invoices_issue(period=FEBRUARY)

    overage = InvoiceLine.objects.get(kind=ChargeKind.OVERAGE)
    assert (overage.quantity, overage.unit_amount, overage.amount) == (
        Decimal("2.00"),
        Decimal("100.00"),
        Decimal("200.00"),
    )
    fee = InvoiceLine.objects.get(
        kind=ChargeKind.CONTRACT_FEE, invoice__bill_to=billed["full"].client.name
    )
    assert (fee.quantity, fee.unit_amount, fee.service_date) == (
        Decimal(1),
        Decimal("600.00"),
        dt.date(2025, 2, 1),
    )


def test_issuing_an_issued_period_again_is_refused_and_changes_nothing(
    billed: dict[str, Any],
) -> None:
    invoices_issue(period=FEBRUARY)

    with pytest.raises(BillingError, match="February 2025 is already invoiced"):
        invoices_issue(period=FEBRUARY)

    assert Invoice.objects.count() == 4
    assert InvoiceSequence.objects.get().last == 4


def test_a_charge_posted_after_the_invoice_goes_on_the_next_months(billed: dict[str, Any]) -> None:
    invoices_issue(period=FEBRUARY)
    late = ChargeFactory(
        client=billed["breakfix"],
        kind=ChargeKind.OTHER,
        amount=Decimal("40.00"),
        occurred_at=FEB_20,
    )

    assert drafts(FEBRUARY) == []
    (march,) = drafts(Period(2025, 3))
    assert (march.client_id, march.total) == (late.client_id, Decimal("40.00"))


def test_a_month_cannot_be_invoiced_before_its_contract_fees_are_posted(
    practice: dict[str, Any],
) -> None:
    ChargeFactory(client=practice["full"].client, kind=ChargeKind.LABOUR, occurred_at=FEB_20)

    with pytest.raises(BillingError, match="Post the contract fees and overage for February"):
        invoices_issue(period=FEBRUARY)
    with pytest.raises(BillingError, match="first"):
        invoices_issue(period=FEBRUARY, client_ids=[practice["full"].client_id])

    assert not Invoice.objects.exists()
    # A client without a contract can be invoiced on its own meanwhile.
    other = ChargeFactory(kind=ChargeKind.LABOUR, occurred_at=FEB_20)
    assert invoices_issue(period=FEBRUARY, client_ids=[other.client_id]) == 1


def test_a_month_that_has_not_ended_cannot_be_invoiced(now: dt.datetime) -> None:
    with pytest.raises(BillingError, match="has not ended yet"):
        invoices_issue(period=Period(2025, 3))


def test_one_client_can_be_issued_alone(billed: dict[str, Any]) -> None:
    assert invoices_issue(period=FEBRUARY, client_ids=[billed["breakfix"].pk]) == 1

    assert Invoice.objects.get().bill_to == "Acme Dental"
    assert len(drafts(FEBRUARY)) == 3


def test_an_issued_invoice_never_changes(billed: dict[str, Any]) -> None:
    invoices_issue(period=FEBRUARY)
    invoice = Invoice.objects.first()

    invoice.bill_to = "Someone else"
    with pytest.raises(ValueError, match="never changes"):
        invoice.save()


def test_a_charge_cannot_be_on_two_invoices(billed: dict[str, Any]) -> None:
    invoices_issue(period=FEBRUARY)
    line = InvoiceLine.objects.first()

    with pytest.raises(IntegrityError), transaction.atomic():
        InvoiceLine.objects.create(
            invoice=Invoice.objects.last(),
            position=99,
            charge=line.charge,
            kind=line.kind,
            description="again",
            service_date=line.service_date,
            quantity=1,
            unit_amount=line.amount,
            amount=line.amount,
        )


# --- Credit notes -----------------------------------------------------------------------------
def test_a_credit_note_takes_lines_off_an_invoice(billed: dict[str, Any], manager: User) -> None:
    invoices_issue(period=FEBRUARY)
    invoice = Invoice.objects.get(bill_to="Acme Dental")
    priority = invoice.lines.get(kind=ChargeKind.PAID_PRIORITY)

    note = credit_note_issue(
        invoice=invoice, line_ids=[priority.pk], reason="Priority not delivered", by=manager
    )

    assert note.number == "CN-2025-00001"
    assert note.kind == InvoiceKind.CREDIT_NOTE
    assert (note.credits, note.total, note.reason) == (
        invoice,
        Decimal("-75.00"),
        "Priority not delivered",
    )
    (line,) = note.lines.all()
    assert (line.credited_line, line.amount) == (priority, Decimal("-75.00"))
    assert invoice_balance(invoice) == Decimal("187.50")
    # The rest can be credited later; a line is credited once.
    rest = credit_note_issue(invoice=invoice, reason="Wrong client")
    assert rest.number == "CN-2025-00002"
    assert rest.total == Decimal("-187.50")
    with pytest.raises(BillingError, match="credited already"):
        credit_note_issue(invoice=invoice, reason="Again")
    assert invoice_balance(invoice) == 0


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_credit_note_needs_a_reason(billed: dict[str, Any], reason: str) -> None:
    invoices_issue(period=FEBRUARY)

    with pytest.raises(BillingError, match="Say why"):
        credit_note_issue(invoice=Invoice.objects.first(), reason=reason)

    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


# --- Two issues at once (PostgreSQL) ------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_issues_at_once_invoice_each_charge_once_with_gapless_numbers(
    billed: dict[str, Any],
) -> None:
    def issue() -> None:
        with contextlib.suppress(BillingError):  # the other got there first: "already invoiced"
            invoices_issue(period=FEBRUARY)

    _, errors = at_once(issue, issue)

    assert errors == []
    assert sorted(Invoice.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert InvoiceSequence.objects.get().last == 4
    assert not Charge.objects.filter(invoice_line__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_credit_notes_at_once_credit_each_line_once(billed: dict[str, Any]) -> None:
    invoices_issue(period=FEBRUARY)
    invoice = Invoice.objects.get(bill_to="Acme Dental")

    def credit() -> str:
        try:
            credit_note_issue(invoice=invoice, reason="Billed twice")
        except BillingError:
            return "refused"  # the other got there first: nothing left to credit
        return "credited"

    outcomes, errors = at_once(credit, credit)

    assert errors == []
    assert sorted(outcomes) == ["credited", "refused"]
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1
    assert invoice_balance(invoice) == 0


def test_an_invoice_keeps_the_practice_details_it_was_issued_with(
    billed: dict[str, Any], rate_card: Any, manager_client: Any
) -> None:
    rate_card.invoice_details = "1 Old Street, Portland\nPay by check"
    rate_card.save()
    invoices_issue(period=FEBRUARY)
    rate_card.invoice_details = "9 New Road, Boston"
    rate_card.save()

    invoice = Invoice.objects.get(bill_to="Acme Dental")
    page = manager_client.get(f"/billing/invoices/{invoice.number}/").content.decode()

    assert (invoice.issuer, invoice.issuer_details) == (
        "Northwind IT Services",
        "1 Old Street, Portland\nPay by check",
    )
    assert "1 Old Street, Portland<br>Pay by check" in page
    assert "9 New Road" not in page
