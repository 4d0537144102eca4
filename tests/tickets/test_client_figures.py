"""The client page's figures, against numbers worked out by hand: the included hours of this
month and the last six, the ledger's year by kind, the invoices, and their CSV downloads."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.invoicing import credit_note_issue, invoices_issue
from billing.periods import Period
from clients.models import ChargeKind
from contracts.models import ContractStatus, ServiceContract
from tests.billing.billing_helpers import FEBRUARY
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
)
from tests.tickets.client_helpers import ten_hour_plan
from tests.tickets.test_client_page import page_of
from tickets.client_page import contract_hours
from tickets.services import time_log

pytestmark = pytest.mark.django_db


def _section(html: str, section: str) -> str:
    return html.split(f'id="{section}"')[1].split("</section>")[0]


def _row(html: str, heading: str) -> list[str]:
    """The cells of the table row whose heading is `heading`, as text."""
    row = html.split(f'<th scope="row" class="fw-normal">{heading}</th>')[1].split("</tr>")[0]
    return [cell.split(">", 1)[1] for cell in row.split("</td>") if ">" in cell]


# --- Included hours -----------------------------------------------------------------------------
def test_thirteen_hours_against_ten_included_is_three_hours_of_overage(
    manager_client, consultant, now
):
    # A $400.00 plan with 10 hours included and $95.00 an hour beyond them, all of March.
    contract = ContractFactory(plan=ten_hour_plan(), starts_on=dt.date(2025, 1, 1))
    ticket = ContractTicketFactory(contract=contract, opened_at=NOW - 40 * DAY)
    for day, minutes in (
        (dt.date(2025, 2, 10), 120),
        (dt.date(2025, 3, 3), 480),
        (dt.date(2025, 3, 10), 300),
    ):
        time_log(ticket=ticket, consultant=consultant, minutes=minutes, work_date=day)

    html = page_of(manager_client, contract.client_id)

    hours = _section(html, "hours")
    # March: 8 h + 5 h = 13 h against 10: none left, 3 h over at $95.00 = $285.00.
    assert "13 of 10 h used" in hours
    assert "0 h left" in hours
    assert "overage so far 3 h = $285.00" in hours
    assert "the fee is $400.00" in hours
    assert 'max="780" low="450" high="600" optimum="0" value="780"' in hours
    assert _row(hours, "March 2025") == ["10.00", "13.00", "0.00", "3.00", "$285.00"]
    # February: 2 h of 10, no overage. December and before: no contract, no row.
    assert _row(hours, "February 2025") == ["10.00", "2.00", "8.00", "0.00", "$0.00"]
    assert "December 2024" not in hours


def test_a_contract_that_starts_mid_month_gets_its_share_of_hours_and_fee(
    manager_client, consultant, now
):
    # From 5 March: 27 of March's 31 days. 10 h x 27/31 = 522 min (8.7 h, down to the
    # minute); $400.00 x 27/31 = $348.39. 10 h worked: 78 min over, 1.3 h x $95.00 = $123.50.
    contract = ContractFactory(plan=ten_hour_plan(), starts_on=dt.date(2025, 3, 5))
    ticket = ContractTicketFactory(contract=contract, opened_at=NOW - 5 * DAY)
    for day in (dt.date(2025, 3, 6), dt.date(2025, 3, 7)):
        time_log(ticket=ticket, consultant=consultant, minutes=300, work_date=day)

    hours = _section(page_of(manager_client, contract.client_id), "hours")

    assert "10 of 8.7 h used" in hours
    assert "0 h left" in hours
    assert "overage so far 1.3 h = $123.50" in hours
    assert "the fee is $348.39" in hours
    assert _row(hours, "March 2025") == ["8.70", "10.00", "0.00", "1.30", "$123.50"]
    assert "February 2025" not in hours


def test_a_month_with_a_renewal_sums_each_terms_share():
    # March 2025 renewed on the 10th: the old term covers 9 days, the new one 22 (of 31).
    # Included: 600 x 9 // 31 = 174 min and 600 x 22 // 31 = 425 min. Worked 200 min under
    # the old term (26 over) and 60 under the new (365 left). Overage 26 min x $95.00/60 =
    # $41.17. Fees: $400.00 x 9/31 = $116.13 and x 22/31 = $283.87.
    plan = ten_hour_plan()
    old = ServiceContract(
        pk=1, plan=plan, starts_on=dt.date(2024, 3, 10), ends_on=dt.date(2025, 3, 9),
        monthly_price=Decimal("400.00"), status=ContractStatus.ENDED,
    )  # fmt: skip
    new = ServiceContract(
        pk=2, plan=plan, starts_on=dt.date(2025, 3, 10), ends_on=dt.date(2026, 3, 9),
        monthly_price=Decimal("400.00"),
    )  # fmt: skip
    march = Period(2025, 3)

    (month,) = contract_hours(
        [new, old], {(1, march.first_day): 200, (2, march.first_day): 60}, [march]
    )

    assert (month.included_minutes, month.used_minutes, month.left_minutes) == (599, 260, 365)
    assert (month.overage_minutes, month.overage) == (26, Decimal("41.17"))
    assert month.fee == Decimal("116.13") + Decimal("283.87")


def test_a_transactional_client_has_no_hours_but_its_labour_this_month(consultant_client, now):
    client = ClientFactory()
    ChargeFactory(
        client=client,
        kind=ChargeKind.LABOUR,
        amount=Decimal("187.50"),
        hours=Decimal("1.50"),
        occurred_at=NOW - DAY,
    )

    hours = _section(page_of(consultant_client, client.pk), "hours")

    assert "1.5 h of labour billed this month, $187.50" in hours
    assert "<canvas" not in hours
    assert "<meter" not in hours


# --- Money ---------------------------------------------------------------------------------------
def test_the_last_twelve_months_are_summed_by_kind(consultant_client, now):
    client = ClientFactory()
    for kind, amount, days_ago in (
        (ChargeKind.CONTRACT_FEE, "400.00", 37),
        (ChargeKind.CONTRACT_FEE, "400.00", 68),
        (ChargeKind.LABOUR, "125.00", 85),
        (ChargeKind.PAID_PRIORITY, "75.00", 110),
        (ChargeKind.OTHER, "60.00", 18),
        (ChargeKind.LABOUR, "250.00", 7),
        (ChargeKind.LABOUR, "999.00", 374),  # more than a year ago: left out
    ):
        ChargeFactory(
            client=client, kind=kind, amount=Decimal(amount), occurred_at=NOW - days_ago * DAY
        )

    money = _section(page_of(consultant_client, client.pk), "money")

    # $800.00 + $375.00 + $75.00 + $60.00
    assert '<span class="fs-4" id="money-total">$1,310.00</span>' in money
    assert _row(money, "Contract fees") == ["2", "$800.00"]
    assert _row(money, "Labour") == ["2", "$375.00"]
    assert _row(money, "Overage") == ["0", "$0.00"]
    assert _row(money, "Paid priority") == ["1", "$75.00"]
    assert _row(money, "Other") == ["1", "$60.00"]


def test_invoices_show_where_each_stands_and_link_for_a_manager(
    manager_client, consultant_client, manager, now
):
    client = ContactFactory().client
    ChargeFactory(client=client, amount=Decimal("125.00"), occurred_at=NOW - 50 * DAY)
    invoices_issue(period=Period(2025, 1), client_ids=[client.pk], now=NOW - 35 * DAY)  # due 17 Feb
    ChargeFactory(client=client, amount=Decimal("80.00"), occurred_at=NOW - 20 * DAY)
    invoices_issue(period=FEBRUARY, client_ids=[client.pk], now=NOW)  # due 24 Mar
    ChargeFactory(client=client, amount=Decimal("60.00"), occurred_at=NOW - 70 * DAY)
    ChargeFactory(client=client, amount=Decimal("60.00"), occurred_at=NOW - 400 * DAY)
    invoices_issue(period=Period(2024, 12), client_ids=[client.pk], now=NOW - 60 * DAY)
    december = client.invoices.get(period=dt.date(2024, 12, 1))
    note = credit_note_issue(invoice=december, reason="Billed twice", by=manager)

    managers = _section(page_of(manager_client, client.pk), "invoices")
    consultants = _section(page_of(consultant_client, client.pk), "invoices")

    january = client.invoices.get(period=dt.date(2025, 1, 1))
    february = client.invoices.get(period=FEBRUARY.first_day)
    rows = managers.split("<tbody>")[1].split("</tr>")
    # Newest first: the credit note, February's, January's, December's (credited).
    assert f"Credit note for {december.number}" in rows[0]
    assert ">Issued<" in rows[1]
    assert ">24 Mar 2025</td>" in rows[1]  # February's, not due yet
    assert "17 Feb 2025, past due" in rows[2]  # January's, nothing credited
    assert "Credited in full" in rows[3]
    assert "past due" not in rows[3]
    for invoice in (note, february, january, december):
        assert f'href="{reverse("billing:invoice", args=[invoice.number])}"' in managers
        assert f">{invoice.number}</td>" in consultants  # named, not linked
    assert "/billing/" not in consultants
    assert f"/billing/invoices/?q={client.name.replace(' ', '%20')}" in managers


def test_each_table_downloads_as_csv(consultant_client, consultant, now):
    contract = ContractFactory(plan=ten_hour_plan(), starts_on=dt.date(2025, 1, 1))
    ticket = ContractTicketFactory(contract=contract, opened_at=NOW - 20 * DAY)
    time_log(ticket=ticket, consultant=consultant, minutes=780, work_date=dt.date(2025, 3, 3))
    ChargeFactory(
        client=contract.client,
        kind=ChargeKind.OTHER,
        amount=Decimal("1234.50"),
        occurred_at=NOW - DAY,
    )

    hours = consultant_client.get(reverse("tickets:client_csv", args=[contract.client_id, "hours"]))
    money = consultant_client.get(reverse("tickets:client_csv", args=[contract.client_id, "money"]))
    other = consultant_client.get(reverse("tickets:client_csv", args=[contract.client_id, "nope"]))

    assert hours["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="client-{contract.client_id}-hours-2025-03-10.csv"'
        in hours["Content-Disposition"]
    )
    lines = hours.content.decode().splitlines()
    assert lines[0] == "Month,Included (h),Used (h),Left (h),Overage (h),Overage"
    assert lines[-1] == "March 2025,10.00,13.00,0.00,3.00,285.00"
    assert lines[1] == "January 2025,10.00,0.00,10.00,0.00,0.00"  # the contract's first month
    assert "Other,1,1234.50" in money.content.decode().splitlines()
    assert other.status_code == 404
