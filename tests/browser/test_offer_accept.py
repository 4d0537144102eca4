"""A client's side of a conversion offer, in a real browser: the emailed link, the offer with its
loyalty price and savings, one click to accept; then the manager finds the contract in the admin."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.utils import timezone

from clients.models import ChargeKind
from contracts.models import ContractStatus, ServiceContract
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    PlanFactory,
    TicketFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _screenshots(tmp_path: Path) -> Path:
    """Where the test saves its screenshots: the test's own folder, or the one named by
    SAVE_SCREENSHOTS_TO (docs/screenshots, to refresh the docs' pictures)."""
    return Path(os.environ.get("SAVE_SCREENSHOTS_TO") or tmp_path)


@pytest.fixture
def page(browser_page: Any) -> Iterator[Any]:
    yield browser_page
    # Playwright's sync API sets an event loop in this thread, so the ORM calls made by the test
    # meanwhile used a connection of their own, which the database teardown knows nothing of:
    # close it, or the test database cannot be dropped at the end of the run.
    connections.close_all()


def test_client_accepts_the_emailed_offer_and_the_manager_sees_the_contract(
    page: Any, live_server: Any, manager: User, password: str, mailoutbox: list, tmp_path: Path
) -> None:
    # A client of ours for three years (8% loyalty discount: 5% plus 1% a year) who, in the last
    # twelve months, raised nine tickets, bought 48 hours of labour and two priority call-outs.
    client = ClientFactory(
        name="Lakeside Veterinary Clinic",
        customer_since=timezone.localdate() - dt.timedelta(days=3 * 365 + 40),
    )
    ContactFactory(client=client, name="Priya Nair", email="priya@lakeside-vets.example")
    for month in range(12):
        ChargeFactory(
            client=client,
            amount=Decimal("500.00"),
            hours=Decimal("4.00"),
            occurred_at=timezone.now() - dt.timedelta(days=15 + 28 * month),
        )
    for days_ago in (40, 200):
        ChargeFactory(
            client=client,
            kind=ChargeKind.PAID_PRIORITY,
            amount=Decimal("75.00"),
            description="Paid priority",
            occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        )
    TicketFactory.create_batch(9, client=client)
    PlanFactory(name="Business Care", monthly_price=Decimal("400.00"), included_hours=Decimal("6"))

    run = campaign_run()  # the send task runs eagerly; the email lands in the outbox
    assert run.offers_created == 1
    (email,) = mailoutbox
    assert email.to == ["Priya Nair <priya@lakeside-vets.example>"]
    link = re.search(rf"{re.escape(settings.SITE_URL)}(/offers/[^/\s]+/)", email.body)
    assert link, email.body
    offer = ConversionOffer.objects.get()
    assert offer.status == OfferStatus.SENT

    page.goto(live_server.url + link.group(1))
    body = page.locator("body")
    # $400 less 8% is $368.00 a month, $4,416.00 a year; the client paid $6,150.00 (labour
    # $6,000.00 and priority $150.00), so the contract would have saved $1,734.00.
    assert "A service contract for Lakeside Veterinary Clinic" in body.inner_text()
    assert "$368.00 a month" in body.inner_text()
    assert "$400.00" in page.locator("s").inner_text()
    assert "8% loyalty discount" in body.inner_text()
    assert "$6,150.00" in body.inner_text()
    assert "$4,416.00" in body.inner_text()
    assert "You would have saved $1,734.00" in body.inner_text()
    page.screenshot(path=_screenshots(tmp_path) / "offer.png", full_page=True)

    page.fill("#id_signer_name", "Priya Nair")
    page.fill("#id_signer_role", "Practice manager")
    page.check("#id_agree")
    page.click("#accept-offer")
    page.get_by_role("heading", name="Welcome aboard, Lakeside Veterinary Clinic").wait_for()
    assert "$368.00 a month" in body.inner_text()
    page.screenshot(path=_screenshots(tmp_path) / "offer-accepted.png", full_page=True)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.accepted_ip == "127.0.0.1"
    contract = ServiceContract.objects.get(client=client)
    assert (contract.status, contract.monthly_price, contract.discount_percent) == (
        ContractStatus.ACTIVE,
        Decimal("368.00"),
        Decimal("8.00"),
    )
    # The confirmation for the client and the notice for the managers went out after commit.
    assert [m.to for m in mailoutbox[1:]] == [
        ["Priya Nair <priya@lakeside-vets.example>"],
        [manager.email],
    ]

    # The manager, in the same browser, finds the new contract in the admin.
    page.goto(f"{live_server.url}/admin/login/?next=/admin/contracts/servicecontract/")
    page.fill("#id_username", manager.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/contracts/servicecontract/")
    row = page.locator("#result_list tbody tr", has_text="Lakeside Veterinary Clinic")
    assert row.count() == 1
    assert "Active" in row.inner_text()
    assert "Business Care" in row.inner_text()
