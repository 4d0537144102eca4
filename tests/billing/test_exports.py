"""Exports for accounting software: February 2025 of a small practice, written for Xero and for
QuickBooks Online, against files written by hand (tests/billing/expected/)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.exports import (
    QUICKBOOKS_HEADER,
    XERO_HEADER,
    InvoiceExport,
    export_invoices,
    exports_pending,
    priced_as,
)
from billing.invoicing import credit_note_issue, invoices_issue
from billing.models import Invoice, InvoiceKind, RateCard
from billing.periods import Period
from billing.run import billing_run
from billing.services import priority_charge, work_charge, work_split
from clients.models import Client
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    PlanFactory,
)
from tests.threads import at_once
from tickets.services import time_log

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).parent / "expected"
JANUARY = Period(2025, 1)
FEBRUARY = Period(2025, 2)
XERO_ONLY = ("CN-2025-00001",)
FEBRUARY_INVOICES = ("INV-2025-00002", "INV-2025-00003")


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A moment on `day`, New York wall-clock time (the practice's time zone)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _expected(name: str) -> str:
    # newline="": the files end their rows in "\r\n" as csv.writer does; compare them as bytes.
    with (EXPECTED / name).open(encoding="utf-8", newline="") as file:
        return file.read()


@pytest.fixture
def practice(now: dt.datetime, time_machine: Any, consultant: User, manager: User) -> None:
    """February 2025 at a practice charging 125.00 an hour and 75.00 for priority.

    Harbor Dental Group starts an Essentials contract (600.00 a month, 4 h included, overage
    110.00 an hour) on 11 February and logs 130 + 120 minutes that month. Bayside Bakery has no
    contract: 45 minutes in January (invoiced in February, then credited on 20 February), and
    in February paid priority and 95 minutes of labour. The January invoice is issued on
    3 February; February's on 10 March (NOW).

    By hand, February:
    - Harbor's fee covers 11-28 Feb, 18 of 28 days: 600.00 x 18 / 28 = 385.714... = 385.71,
      dated (its service date) the first day it covers, 11 Feb, as is its overage.
      Included: 240 min x 18 // 28 = 154 min (2.57 h); worked 250, so 96 min over:
      96 / 60 = 1.60 h x 110.00 = 176.00 (1.60 x 110.00 is 176.00: exported as it is).
    - Bayside's labour: 95 min x 125.00 / 60 = 197.916... = 197.92, recorded as 1.58 h;
      1.58 x 125.00 = 197.50, not 197.92, so exported as 1 x 197.92 with the hours in words.
    - Bayside's January labour: 45 min = 0.75 h x 125.00 = 93.75; the credit note CN-2025-00001
      takes it back as 0.75 x -125.00 = -93.75, issued 20 Feb, so in February's file.
    - Invoice numbers: INV-2025-00001 is January's (Bayside); February's go by client id,
      Harbor INV-2025-00002 (561.71), Bayside INV-2025-00003 (272.92). Issued 10 March, due
      in 14 days: 24 March. Rate card account 4000, tax type "Tax Exempt".
    """
    card = RateCard.load()
    card.hourly_rate = Decimal("125.00")
    card.paid_priority_surcharge = Decimal("75.00")
    card.payment_terms_days = 14
    card.sales_account_code = "4000"
    card.tax_type = "Tax Exempt"
    card.save()
    harbor = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=harbor, email="accounts@harbordental.example")
    bayside = ClientFactory(name="Bayside Bakery, Inc.")
    ContactFactory(client=bayside, email="owner@baysidebakery.example")
    plan = PlanFactory(
        name="Essentials",
        monthly_price=Decimal("600.00"),
        included_hours=Decimal("4.00"),
        overage_hourly_rate=Decimal("110.00"),
    )
    contract = ContractFactory(client=harbor, plan=plan, starts_on=dt.date(2025, 2, 11))
    ticket = ContractTicketFactory(contract=contract, opened_at=_at(dt.date(2025, 2, 18), 9))
    for minutes, day in ((130, 18), (120, 25)):
        time_log(
            ticket=ticket, consultant=consultant, minutes=minutes, work_date=dt.date(2025, 2, day)
        )

    # Bayside's work is posted by the billing services the ticket pages call, with descriptions
    # of our choosing: a ticket's number would differ from one database to the next.
    def labour(day: dt.date, minutes: int, what: str) -> None:
        split = work_split(contract=None, work_date=day, minutes=minutes, used=0)
        work_charge(
            client_id=bayside.pk, split=split, work_date=day, after_hours=False, description=what
        )

    labour(dt.date(2025, 1, 21), 45, "till network down at the shop")
    time_machine.move_to(_at(dt.date(2025, 2, 3), 9), tick=False)
    billing_run(period=JANUARY, issue=True, by=manager)
    time_machine.move_to(_at(dt.date(2025, 2, 12), 10, 30), tick=False)
    priority_charge(
        client_id=bayside.pk, description='Paid priority: oven controller "OVN-2" offline'
    )
    labour(dt.date(2025, 2, 12), 95, 'oven controller "OVN-2" offline')
    time_machine.move_to(_at(dt.date(2025, 2, 20), 11), tick=False)
    credit_note_issue(
        invoice=Invoice.objects.get(number="INV-2025-00001"),
        reason="The visit was under the till's warranty.",
        by=manager,
    )
    time_machine.move_to(now, tick=False)
    billing_run(period=FEBRUARY, issue=True, by=manager)


def _marked(field: str) -> list[str]:
    return sorted(
        Invoice.objects.filter(**{f"{field}__isnull": False}).values_list("number", flat=True)
    )


# --- The files --------------------------------------------------------------------------------
def test_the_practice_is_what_the_expected_files_were_worked_out_from(practice):
    totals = dict(Invoice.objects.values_list("number", "total"))
    assert totals == {
        "INV-2025-00001": Decimal("93.75"),
        "CN-2025-00001": Decimal("-93.75"),
        "INV-2025-00002": Decimal("561.71"),
        "INV-2025-00003": Decimal("272.92"),
    }


def test_xero_export_matches_the_file_written_by_hand(practice, now):
    export = export_invoices(period=FEBRUARY, export_format="xero")

    assert export.content == _expected("xero-2025-02.csv")
    assert export == InvoiceExport(
        filename="xero-invoices-2025-02.csv",
        content=export.content,
        invoices=3,
        rows=5,
        left_out=0,
    )
    # January's invoice belongs to January's file; the credit note carries February.
    assert _marked("exported_to_xero_at") == sorted(XERO_ONLY + FEBRUARY_INVOICES)
    assert set(
        Invoice.objects.filter(exported_to_xero_at__isnull=False).values_list(
            "exported_to_xero_at", flat=True
        )
    ) == {now}
    assert _marked("exported_to_quickbooks_at") == []


def test_quickbooks_export_matches_the_file_written_by_hand_without_the_credit_note(practice):
    export = export_invoices(period=FEBRUARY, export_format="quickbooks")

    assert export.content == _expected("quickbooks-2025-02.csv")
    assert (export.filename, export.invoices, export.rows) == (
        "quickbooks-invoices-2025-02.csv",
        2,
        4,
    )
    # QuickBooks Online's invoice import refuses negative lines: the credit note is entered by
    # hand, so it is neither in the file nor marked as exported there.
    assert export.left_out == 1
    assert _marked("exported_to_quickbooks_at") == list(FEBRUARY_INVOICES)
    assert _marked("exported_to_xero_at") == []


def test_the_headers_are_the_layouts_of_the_research_note():
    # Spelled out once more, from docs/billing-exports.md, not from the code.
    assert ",".join(XERO_HEADER) == (
        "*ContactName,EmailAddress,POAddressLine1,POAddressLine2,POAddressLine3,POAddressLine4,"
        "POCity,PORegion,POPostalCode,POCountry,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,"
        "Total,InventoryItemCode,*Description,*Quantity,*UnitAmount,Discount,*AccountCode,"
        "*TaxType,TaxAmount,TrackingName1,TrackingOption1,TrackingName2,TrackingOption2,"
        "Currency,BrandingTheme"
    )
    assert ",".join(QUICKBOOKS_HEADER) == (
        "*InvoiceNo,*Customer,*InvoiceDate,*DueDate,Terms,Location,Memo,Item(Product/Service),"
        "ItemDescription,ItemQuantity,ItemRate,*ItemAmount,Service Date"
    )
    assert (len(XERO_HEADER), len(QUICKBOOKS_HEADER)) == (29, 13)


# --- Repeating an export ----------------------------------------------------------------------
def test_a_second_export_has_the_header_only_and_marks_nothing_new(practice, time_machine):
    export_invoices(period=FEBRUARY, export_format="xero")
    first_marks = dict(Invoice.objects.values_list("number", "exported_to_xero_at"))
    time_machine.move_to(timezone.now() + dt.timedelta(hours=2), tick=False)

    again = export_invoices(period=FEBRUARY, export_format="xero")

    assert again.content == ",".join(XERO_HEADER) + "\r\n"
    assert (again.invoices, again.rows) == (0, 0)
    assert dict(Invoice.objects.values_list("number", "exported_to_xero_at")) == first_marks


def test_include_exported_writes_the_period_again_and_keeps_the_first_marks(
    practice, now, time_machine
):
    first = export_invoices(period=FEBRUARY, export_format="xero")
    time_machine.move_to(now + dt.timedelta(days=1), tick=False)

    again = export_invoices(period=FEBRUARY, export_format="xero", include_exported=True)

    assert again == first
    assert set(
        Invoice.objects.filter(exported_to_xero_at__isnull=False).values_list(
            "exported_to_xero_at", flat=True
        )
    ) == {now}


def test_include_exported_marks_what_was_not_exported_yet(practice, now, time_machine):
    # Exporting the whole month again also writes an invoice issued since the last export:
    # that one is marked now, the others keep their first mark.
    export_invoices(period=FEBRUARY, export_format="quickbooks")
    late = ClientFactory(name="Late Client")
    ChargeFactory(client=late, amount=Decimal("50.00"), occurred_at=_at(dt.date(2025, 2, 27), 9))
    later = now + dt.timedelta(hours=1)
    time_machine.move_to(later, tick=False)
    invoices_issue(period=FEBRUARY, client_ids=[late.pk])

    again = export_invoices(period=FEBRUARY, export_format="quickbooks", include_exported=True)

    assert (again.invoices, again.rows) == (3, 5)
    assert again.content.startswith(_expected("quickbooks-2025-02.csv"))
    assert again.content.endswith(
        "INV-2025-00004,Late Client,03/10/2025,03/24/2025,,,February 2025,,On-site labour,"
        "1.00,50.00,50.00,02/27/2025\r\n"
    )
    marks = dict(Invoice.objects.values_list("number", "exported_to_quickbooks_at"))
    assert marks["INV-2025-00002"] == marks["INV-2025-00003"] == now
    assert marks["INV-2025-00004"] == later


def test_the_two_formats_are_exported_and_counted_apart(practice):
    assert exports_pending(FEBRUARY) == {"xero": 3, "quickbooks": 2, "credit_notes": 1}

    export_invoices(period=FEBRUARY, export_format="xero")
    assert exports_pending(FEBRUARY) == {"xero": 0, "quickbooks": 2, "credit_notes": 1}
    assert export_invoices(period=FEBRUARY, export_format="quickbooks").invoices == 2
    # The credit note never counts as pending for QuickBooks: it is never exported there.
    assert exports_pending(FEBRUARY) == {"xero": 0, "quickbooks": 0, "credit_notes": 1}
    assert exports_pending(JANUARY) == {"xero": 1, "quickbooks": 1, "credit_notes": 0}


def test_an_export_takes_a_fixed_number_of_queries(practice, django_assert_num_queries):
    # Whatever the month holds (up to 1,000 invoices a mark UPDATE): the rate card, the invoices locked with the invoice each credits joined, their lines, the marks, and the
    # credit notes left out (QuickBooks); plus the savepoint and its release, the export's
    # transaction inside the test's own.
    with django_assert_num_queries(7):
        export_invoices(period=FEBRUARY, export_format="quickbooks")


# --- Lines whose hours do not multiply back to their amount -----------------------------------
@pytest.mark.parametrize(
    ("quantity", "unit", "amount", "exported"),
    [
        # 1.60 h x 110.00 = 176.00: as they are.
        ("1.60", "110.00", "176.00", ("1.60", "110.00", "Work")),
        # 20 min at 125.00 = 41.67, recorded as 0.33 h; 0.33 x 125.00 = 41.25.
        ("0.33", "125.00", "41.67", ("1.00", "41.67", "Work (0.33 h at $125.00/h)")),
        # A credit note: positive hours, negative rate; 0.75 x -125.00 = -93.75.
        ("0.75", "-125.00", "-93.75", ("0.75", "-125.00", "Work")),
        ("0.33", "-125.00", "-41.67", ("1.00", "-41.67", "Work (0.33 h at $125.00/h)")),
        # 0.25 x 0.10 = 0.025: rounds to 0.03 half up, but 0.02 half to even; the importer's
        # rule is not ours to guess, so only an exact product goes out as it is.
        ("0.25", "0.10", "0.03", ("1.00", "0.03", "Work (0.25 h at $0.10/h)")),
    ],
)
def test_a_line_goes_out_as_one_of_its_amount_unless_its_hours_multiply_back(
    quantity, unit, amount, exported
):
    got = priced_as(Decimal(quantity), Decimal(unit), Decimal(amount), "Work")
    assert (str(got[0]), str(got[1]), got[2]) == exported


# --- Spreadsheets ----------------------------------------------------------------------------
@pytest.mark.parametrize("export_format", ["xero", "quickbooks"])
def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_quoted(now, export_format):
    client = ClientFactory(name='=HYPERLINK("http://evil.example","Open")')
    ContactFactory(client=client, email="@evil.example")
    ChargeFactory(
        client=client,
        amount=Decimal("80.00"),
        description="-2+3 cabling",
        occurred_at=_at(dt.date(2025, 2, 3), 9),
    )
    ChargeFactory(
        client=client,
        amount=Decimal("20.00"),
        description="Cable\nand tester",
        occurred_at=_at(dt.date(2025, 2, 4), 9),
    )
    invoices_issue(period=FEBRUARY)

    content = export_invoices(period=FEBRUARY, export_format=export_format).content

    assert content.count('"\'=HYPERLINK(""http://evil.example"",""Open"")"') == 2
    assert ",'-2+3 cabling," in content
    assert ",Cable and tester," in content  # one row per line: no line break inside a cell
    assert ",80.00," in content  # amounts stay numbers, minus signs and all
    if export_format == "xero":
        assert ",'@evil.example," in content
    assert content.count("\r\n") == 3


def test_an_unknown_format_is_refused_with_the_formats_we_know(practice):
    with pytest.raises(
        ValueError, match="'sage' is not an export format; choose xero or quickbooks"
    ):
        export_invoices(period=FEBRUARY, export_format="sage")
    assert _marked("exported_to_xero_at") == _marked("exported_to_quickbooks_at") == []


# --- The command ------------------------------------------------------------------------------
def _command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("export_invoices", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_the_same_file_and_sums_it_up_on_stderr(practice):
    out, err = _command("--period", "2025-02", "--format", "xero")

    assert out == _expected("xero-2025-02.csv")
    assert err == "Xero: 3 invoice(s), 5 row(s) for February 2025.\n"
    out, err = _command("--period", "2025-02", "--format", "xero")
    assert out == ",".join(XERO_HEADER) + "\r\n"
    assert "nothing new to export for February 2025" in err


def test_the_command_writes_the_file_and_names_the_credit_notes_left_out(practice, tmp_path):
    target = tmp_path / "february.csv"

    out, err = _command("--period", "2025-02", "--format", "quickbooks", "--output", str(target))

    assert out == ""
    assert target.read_bytes() == _expected("quickbooks-2025-02.csv").encode()
    assert err.splitlines() == [
        f"QuickBooks Online: 2 invoice(s), 4 row(s) for February 2025 to {target}.",
        "Left out 1 credit note(s) of February 2025: QuickBooks Online's invoice import takes "
        "none; enter them there by hand.",
    ]
    out, _ = _command("--period", "2025-02", "--format", "quickbooks", "--all")
    assert out == _expected("quickbooks-2025-02.csv")


def test_the_command_warns_when_the_file_is_larger_than_one_import(now):
    clients = ClientFactory.create_batch(101)
    for client in clients:
        ChargeFactory(client=client, occurred_at=_at(dt.date(2025, 2, 3), 9))
    invoices_issue(period=FEBRUARY)

    _, err = _command("--period", "2025-02", "--format", "quickbooks")

    assert "larger than QuickBooks Online takes in one import (1000 rows or 100 invoices)" in err


@pytest.mark.parametrize(
    ("period", "export_format", "more", "message"),
    [
        ("2025-2", "xero", (), "'2025-2' is not a month like 2026-11."),
        ("2025-13", "xero", (), "2025-13 is not a month."),
        ("2025-03", "xero", (), "March 2025 has not ended yet; export it from 1 April 2025"),
        ("2025-02", "sage", (), "invalid choice: 'sage'"),
        ("2025-02", "xero", ("--output", "/no/such/folder/x.csv"), "/no/such/folder is not"),
    ],
)
def test_the_command_refuses_bad_input_and_exports_nothing(
    practice, period, export_format, more, message
):
    with pytest.raises(CommandError, match=message):
        _command("--period", period, "--format", export_format, *more)
    assert _marked("exported_to_xero_at") == []


def test_the_marks_stay_off_when_the_file_cannot_be_written(practice, tmp_path):
    target = tmp_path / "taken"
    target.mkdir()  # a folder where the file should go: the write fails after the export

    with pytest.raises(IsADirectoryError):
        _command("--period", "2025-02", "--format", "xero", "--output", str(target))
    assert _marked("exported_to_xero_at") == []


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_exports_write_each_invoice_once(now):
    for _ in range(30):
        client = ClientFactory()
        for day in (3, 4):
            ChargeFactory(client=client, occurred_at=_at(dt.date(2025, 2, day), 9))
    invoices_issue(period=FEBRUARY)

    def export() -> InvoiceExport:
        return export_invoices(period=FEBRUARY, export_format="xero")

    exports, errors = at_once(export, export)

    assert not errors, errors
    # The first export locks the month's rows; the second waits, then finds them marked.
    assert sorted(e.invoices for e in exports) == [0, 30]
    assert sorted(e.rows for e in exports) == [0, 60]
    numbers = [row.split(",")[10] for e in exports for row in e.content.splitlines()[1:]]
    # Every invoice of the month, with its two lines, in one file or the other.
    assert Counter(numbers) == dict.fromkeys(Invoice.objects.values_list("number", flat=True), 2)
    assert Invoice.objects.filter(exported_to_xero_at__isnull=True).count() == 0
    assert Invoice.objects.filter(kind=InvoiceKind.INVOICE).count() == Client.objects.count()
