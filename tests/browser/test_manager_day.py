"""A manager's day, in a real browser: sign in through the login page and land on the insights;
renew a contract from the renewals; post last month's contract fees and issue one client's
invoice; drop a client from the drop candidates and undo the drop. Every page runs under the
strict Content-Security-Policy and axe-core finds no serious accessibility failure on it.

The browser runs on the real clock (a frozen one would stop its timers too), so the practice
is laid out around today: the contract ends with this month (or the next, when this one has
under five days left) and every charge falls on the first day of last month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from billing.models import Invoice
from billing.periods import Period
from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientEventKind,
    ClientStatus,
)
from contracts.models import ContractStatus, ServiceContract
from offers.models import OfferStatus
from tests.browser.strict import (
    assert_accessible,
    reload_under_policy,
    screenshots_dir,
    sign_in,
)
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = dt.timedelta(days=1)


def _month_end(day: dt.date) -> dt.date:
    return (day.replace(day=28) + 4 * DAY).replace(day=1) - DAY


def _term_ending_soon() -> tuple[dt.date, dt.date]:
    """A year's term that ends on the last day of a month 5 to 35 days from today."""
    today = timezone.localdate()
    ends_on = _month_end(today)
    if (ends_on - today).days < 5:
        ends_on = _month_end(ends_on + DAY)
    first_day_after = ends_on + DAY
    return first_day_after.replace(year=first_day_after.year - 1), ends_on


def _practice(period: Period) -> dict[str, Client]:
    """A contract client ending its first term, and two break-fix clients who turned down
    contract offers, each with work billed in `period`.

    - Alder Dental: Business Care at $500.00 less 10% for the first term only, $450.00 a month;
      renewed, it costs the plan's $500.00.
    - Ridge Cafe: opted out of offers 40 days ago. $120.00 of labour for 90 minutes of work:
      $80.00 an hour, the lowest, so the first candidate.
    - Quarry Books: declined two offers. $250.00 of labour for 150 minutes: $100.00 an hour.
    """
    worked = timezone.make_aware(dt.datetime.combine(period.first_day, dt.time(11)))
    starts_on, ends_on = _term_ending_soon()
    alder = ClientFactory(name="Alder Dental")
    ContactFactory(client=alder, name="Nina Alder", email="nina@alder-dental.example")
    ContractFactory(
        client=alder,
        plan=PlanFactory(name="Business Care", monthly_price=Decimal("500.00")),
        starts_on=starts_on,
        ends_on=ends_on,
        monthly_price=Decimal("450.00"),
        discount_percent=Decimal("10.00"),
        discount_first_term_only=True,
        # The daily task told the client of the renewal price already.
        renewal_notice_sent_at=timezone.now() - DAY,
    )
    ridge = ClientFactory(name="Ridge Cafe", offers_opt_out=True)
    ClientEvent.objects.create(
        client=ridge,
        kind=ClientEventKind.OPTED_OUT,
        at=timezone.now() - 40 * DAY,
        summary="Opted out of contract offers",
    )
    ContactFactory(client=ridge, name="Rosa Vega", email="rosa@ridge-cafe.example")
    quarry = ClientFactory(name="Quarry Books")
    ContactFactory(client=quarry, name="Tom Reed", email="tom@quarry-books.example")
    for made_days_ago in (90, 50):
        made = timezone.now() - made_days_ago * DAY
        OfferFactory(
            client=quarry, status=OfferStatus.DECLINED, created_at=made, expires_at=made + 21 * DAY
        )
    for client, amount, minutes in ((ridge, "120.00", 90), (quarry, "250.00", 150)):
        ChargeFactory(client=client, amount=Decimal(amount), occurred_at=worked)
        ticket = TicketFactory(client=client, opened_at=worked)
        TimeEntryFactory(ticket=ticket, minutes=minutes, work_date=period.first_day)
    return {"alder": alder, "ridge": ridge, "quarry": quarry}


def test_a_manager_renews_a_contract_bills_the_month_and_drops_then_reinstates_a_client(
    strict_page: Any, live_server: Any, manager: User, password: str, tmp_path: Path
) -> None:
    period = Period.last_closed()
    clients = _practice(period)
    alder, quarry = clients["alder"], clients["quarry"]
    term = ServiceContract.objects.get(client=alder)
    page, shots = strict_page, screenshots_dir(tmp_path)

    # --- The insights: where a manager lands.
    sign_in(page, live_server, manager.username, password, lands_on="/insights/")
    revenue = page.locator("section#revenue .insights-headline")
    revenue.wait_for()
    assert "Committed MRR now\n$450.00" in revenue.inner_text()
    assert "Contracts in force now\n1" in revenue.inner_text()
    assert_accessible(page, live_server)

    # --- Renew Alder's contract: its first-term discount ends, so it renews at $500.00.
    page.locator(".insights-tabs").get_by_role("link", name="Renewals").click()
    page.wait_for_url("**/insights/renewals/")
    row = page.locator(f"#contract-{term.pk}")
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == ["Business Care", f"{term.ends_on:%-d %b %Y}", "Automatic"]
    assert cells[3].split("\n") == ["$450.00", "10% off, first term only"]
    assert cells[4].split("\n") == ["$500.00", "discount ends"]
    assert_accessible(page, live_server)

    row.get_by_role("link", name="Renew or cancel…").click()
    page.wait_for_url(f"**/insights/renewals/{term.pk}/")
    summary = page.locator("#contract-summary").inner_text()
    assert "$450.00 a month (10% off)" in summary
    assert "$500.00 a month (the first-term discount ends)" in summary
    page.screenshot(path=shots / "insights-renewal-confirm.png", full_page=True)
    assert_accessible(page, live_server)
    page.get_by_label("Yes, renew it for another term at the price shown").check()
    page.get_by_role("button", name="Renew the contract").click()
    page.wait_for_url("**/insights/renewals/")
    next_starts = term.ends_on + DAY
    next_ends = next_starts.replace(year=next_starts.year + 1) - DAY
    page.get_by_role("alert").filter(
        has_text=f"Renewed Alder Dental's Business Care contract from {next_starts:%Y-%m-%d} "
        f"to {next_ends:%Y-%m-%d} at $500.00 a month."
    ).wait_for()
    assert "No contract ends in the next 60 days." in page.locator("#renewals").inner_text()
    reload_under_policy(page)

    renewed = ServiceContract.objects.get(renewed_from=term)
    assert (renewed.starts_on, renewed.ends_on) == (next_starts, next_ends)
    assert (renewed.status, renewed.monthly_price, renewed.discount_percent) == (
        ContractStatus.ACTIVE,
        Decimal("500.00"),
        Decimal("0.00"),
    )
    term.refresh_from_db()
    assert term.status == ContractStatus.ENDED

    # --- Billing: last month's fee for the term just renewed is still its own $450.00.
    page.locator("nav.navbar").get_by_role("link", name="Billing").click()
    page.wait_for_url(f"**/billing/{period}/")
    assert page.locator("#no-runs").is_visible()
    page.click("#run-billing")
    page.get_by_role("alert").filter(
        has_text=f"Posted 1 contract fee for {period.label}: fees $450.00, overage $0.00."
    ).wait_for()
    drafts = page.locator("#drafts tbody tr")
    assert drafts.count() == 3
    assert drafts.filter(has_text="Alder Dental").locator("td").all_inner_texts()[-2] == "$450.00"
    # $450.00 of fees, $120.00 and $250.00 of labour.
    assert page.locator("#grand-totals td").all_inner_texts()[-2] == "$820.00"
    reload_under_policy(page)

    drafts.filter(has_text="Alder Dental").get_by_role("button").click()
    page.get_by_role("alert").filter(has_text=f"Issued 1 invoice for {period.label}.").wait_for()
    assert drafts.count() == 2
    assert drafts.filter(has_text="Alder Dental").count() == 0
    page.click("#issued-link")
    page.locator("#invoices").get_by_role("link", name="INV-").click()
    page.locator("#invoice").wait_for()
    assert page.locator("#bill-to").inner_text() == "Alder Dental"
    assert page.locator("#invoice-total").inner_text() == "$450.00"
    assert "Business Care" in page.locator("#lines").inner_text()
    assert_accessible(page, live_server)

    invoice = Invoice.objects.get()
    assert (invoice.client, invoice.total) == (alder, Decimal("450.00"))
    fee = Charge.objects.get(kind=ChargeKind.CONTRACT_FEE)
    assert (fee.client, fee.amount, fee.invoice_line.invoice) == (alder, Decimal("450.00"), invoice)

    # --- Drop the client who turned down two offers; then think better of it.
    page.locator("nav.navbar").get_by_role("link", name="Insights").click()
    page.locator(".insights-tabs").get_by_role("link", name="Drop candidates").click()
    page.wait_for_url("**/insights/drops/")
    candidates = page.locator("#candidates tbody tr")
    assert candidates.locator("th").all_inner_texts() == ["Ridge Cafe", "Quarry Books"]
    evidence = candidates.nth(1).locator("td").all_inner_texts()
    assert evidence[:6] == ["2", "0", "No", "$250.00", "2.50", "$100.00"]
    assert candidates.nth(0).locator("td").nth(5).inner_text() == "$80.00"
    assert_accessible(page, live_server)

    candidates.nth(1).get_by_label("Why drop Quarry Books?").fill("Declined twice; slow payer")
    candidates.nth(1).get_by_role("button", name="Drop").click()
    page.get_by_role("alert").filter(
        has_text="Dropped Quarry Books: no more offers and no new tickets."
    ).wait_for()
    assert candidates.locator("th").all_inner_texts() == ["Ridge Cafe"]
    dropped = page.locator(f"#dropped-{quarry.pk}")
    assert "Declined twice; slow payer" in dropped.inner_text()
    quarry.refresh_from_db()
    assert (quarry.status, quarry.drop_reason) == (
        ClientStatus.DROPPED,
        "Declined twice; slow payer",
    )
    reload_under_policy(page)

    dropped.get_by_role("button", name="Undo").click()
    page.get_by_role("alert").filter(has_text="Reinstated Quarry Books.").wait_for()
    assert candidates.locator("th").all_inner_texts() == ["Ridge Cafe", "Quarry Books"]
    assert page.locator(f"#dropped-{quarry.pk}").count() == 0
    quarry.refresh_from_db()
    assert quarry.status == ClientStatus.ACTIVE
    kinds = list(
        ClientEvent.objects.filter(client=quarry).order_by("at", "pk").values_list("kind", "by")
    )
    assert kinds[-2:] == [
        (ClientEventKind.DROPPED, manager.pk),
        (ClientEventKind.REINSTATED, manager.pk),
    ]
