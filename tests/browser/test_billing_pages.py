"""A manager's month end, in a real browser: sign in, post last month's contract fees, issue the
invoices, open one and print it. The pages run under a strict Content-Security-Policy (no
inline script or style, as tests/browser/test_strict_csp.py sets it), printed the invoice is the
sheet alone, and axe-core finds no serious accessibility failure on them."""

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
from clients.models import Charge, ChargeKind
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
    PlanFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(strict_page: Any) -> Any:
    """The browser with every page served under CSP (strict_page checks what it refused) and
    window.print() counted, not opened."""
    strict_page.add_init_script("window.printed = 0; window.print = () => { window.printed++; };")
    return strict_page


def _last_month() -> Period:
    """The month the billing page opens on: the last one that has ended, by the real clock (a
    frozen clock would stop the browser's timers too)."""
    period = Period.last_closed()
    harbor = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=harbor, email="ana@harbor.example")
    ContractFactory(
        client=harbor,
        plan=PlanFactory(name="Business Care", monthly_price=Decimal("450.00")),
        starts_on=period.first_day,
    )
    bakery = ClientFactory(name="Corner Bakery")
    ContactFactory(client=bakery, email="owner@bakery.example")
    ChargeFactory(
        client=bakery,
        amount=Decimal("187.50"),
        rate=Decimal("125.00"),
        hours=Decimal("1.50"),
        description="Labour, 90 min: till printer jams",
        occurred_at=timezone.make_aware(dt.datetime.combine(period.first_day, dt.time(11))),
    )
    return period


def test_manager_posts_the_month_issues_and_prints_an_invoice(
    page: Any, live_server: Any, manager: User, password: str, tmp_path: Path
) -> None:
    period = _last_month()
    shots = screenshots_dir(tmp_path)

    sign_in(page, live_server, manager.username, password, lands_on="/insights/")
    page.click("nav.navbar >> text=Billing")
    page.wait_for_url(f"**/billing/{period}/")
    reload_under_policy(page)
    assert page.locator("#no-runs").is_visible()

    page.click("#run-billing")
    page.get_by_text(f"Posted 1 contract fee for {period.label}").wait_for()
    assert page.locator("#runs tbody tr").count() == 1
    drafts = page.locator("#drafts tbody tr")
    assert drafts.count() == 2
    assert "$450.00" in drafts.filter(has_text="Harbor Dental Group").inner_text()
    assert "$637.50" in page.locator("#grand-totals").inner_text()
    page.screenshot(path=shots / "billing-period.png", full_page=True)
    reload_under_policy(page)
    assert_accessible(page, live_server)

    page.click("#run-billing")
    page.get_by_text(f"Nothing new to post for {period.label}").wait_for()
    assert Charge.objects.filter(kind=ChargeKind.CONTRACT_FEE).count() == 1

    page.locator("#drafts tr", has_text="Corner Bakery").get_by_role("button").click()
    page.get_by_text(f"Issued 1 invoice for {period.label}").wait_for()
    page.click("#issue-all")
    page.get_by_text(f"Issued 1 invoice for {period.label}").wait_for()
    assert page.locator("#no-drafts").is_visible()
    assert Invoice.objects.count() == 2

    # Through billing/exports.py for real: the file downloads and the invoices are marked.
    with page.expect_download() as download:
        page.click("#export-xero")
    assert download.value.suggested_filename == f"xero-invoices-{period}.csv"
    assert "INV-" in Path(download.value.path()).read_text()
    assert not Invoice.objects.filter(exported_to_xero_at=None).exists()

    page.click("#issued-link")
    page.click("#invoices >> text=INV-")
    page.locator("#invoice").wait_for()
    sheet = page.locator("#invoice").inner_text()
    assert "Bill to".upper() in sheet.upper()
    assert period.label in sheet
    assert_accessible(page, live_server)
    page.screenshot(path=shots / "billing-invoice.png", full_page=True)

    page.click("#print-invoice")
    assert page.evaluate("window.printed") == 1

    page.emulate_media(media="print")
    assert page.locator("#invoice").is_visible()
    for hidden in ("nav.navbar", "#print-invoice", "#credit-note", ".billing-tabs"):
        assert page.locator(hidden).is_hidden(), hidden
    page.screenshot(path=shots / "billing-invoice-print.png", full_page=True)


def test_a_credit_note_is_issued_from_the_invoice_page(
    page: Any, live_server: Any, manager: User, password: str, tmp_path: Path
) -> None:
    period = _last_month()
    sign_in(page, live_server, manager.username, password, lands_on="/insights/")
    page.goto(f"{live_server.url}/billing/{period}/")
    page.click("#issue-all")  # refused: the month's contract fee is not posted yet
    page.get_by_text(f"Post the contract fees and overage for {period.label} first").wait_for()
    assert not Invoice.objects.exists()
    page.click("#run-billing")
    page.get_by_text(f"Posted 1 contract fee for {period.label}").wait_for()
    page.click("#issue-all")
    page.get_by_text(f"Issued 2 invoices for {period.label}").wait_for()
    invoice = Invoice.objects.get(bill_to="Corner Bakery")

    page.goto(f"{live_server.url}/billing/invoices/{invoice.number}/")
    page.click("#credit-form button[type=submit]")  # no reason: the browser asks for one
    assert page.locator("#id_reason:invalid").count() == 1
    assert Invoice.objects.count() == 2  # no credit note
    page.fill("#id_reason", "Printer was under warranty")
    page.click("#credit-form button[type=submit]")
    page.get_by_text("Credit note CN-").first.wait_for()

    assert "Printer was under warranty" in page.locator("#credit-of").inner_text()
    assert invoice.number in page.locator("#credit-of").inner_text()
    page.screenshot(path=screenshots_dir(tmp_path) / "billing-credit-note.png", full_page=True)
    reload_under_policy(page)
    assert_accessible(page, live_server)
