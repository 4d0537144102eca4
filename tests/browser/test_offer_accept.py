"""A client's side of a conversion offer, in a real browser: the emailed link, the offer with its
loyalty price and savings, the signed acceptance (name, role, a tick on the terms); then the
manager finds the contract in the admin."""

from __future__ import annotations

import datetime as dt
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
from contracts.services import plan_terms_set
from offers.campaign import replay_months
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run
from offers.tokens import offer_token
from tests.browser.strict import CSP, screenshots_dir
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
    # Four hours in each of the last twelve whole months, and five more in the busiest.
    months = replay_months(timezone.now())
    for month in months:
        ChargeFactory(
            client=client,
            amount=Decimal("500.00"),
            hours=Decimal("4.00"),
            occurred_at=month.starts_at() + dt.timedelta(days=14),
        )
    ChargeFactory(
        client=client,
        amount=Decimal("625.00"),
        hours=Decimal("5.00"),
        occurred_at=months[6].starts_at() + dt.timedelta(days=20),
    )
    for month in (months[2], months[9]):
        ChargeFactory(
            client=client,
            kind=ChargeKind.PAID_PRIORITY,
            amount=Decimal("75.00"),
            description="Paid priority",
            occurred_at=month.starts_at() + dt.timedelta(days=3),
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
    # $400 less 8% is $368.00 a month, $4,416.00 a year, plus the busiest month's 3 hours
    # beyond the 6 included at $110.00: $330.00, so $4,746.00. The client paid $6,775.00 (labour
    # $6,625.00 and priority $150.00), so the contract would have saved $2,029.00.
    assert "A service contract for Lakeside Veterinary Clinic" in body.inner_text()
    assert "$368.00 a month" in body.inner_text()
    assert "$400.00" in page.locator("s").inner_text()
    assert "8% loyalty discount" in body.inner_text()
    statement = page.locator("#statement")
    assert statement.locator("tbody tr").count() == 12
    busiest = statement.locator("tbody tr").nth(6).inner_text()
    assert months[6].label in busiest
    assert "$1,125.00" in busiest  # paid
    assert "$698.00" in busiest  # 368.00 + 330.00
    totals = statement.locator("tfoot").inner_text()
    assert "$6,775.00" in totals
    assert "$4,746.00" in totals
    assert "You would have saved $2,029.00" in body.inner_text()
    page.screenshot(path=screenshots_dir(tmp_path) / "offer.png", full_page=True)

    page.fill("#id_signer_name", "Priya Nair")
    page.fill("#id_signer_role", "Practice manager")
    page.check("#id_agree")
    page.click("#accept-offer")
    page.get_by_role("heading", name="Welcome aboard, Lakeside Veterinary Clinic").wait_for()
    assert "$368.00 a month" in body.inner_text()
    page.screenshot(path=screenshots_dir(tmp_path) / "offer-accepted.png", full_page=True)

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


def _under_strict_csp(page: Any) -> list[str]:
    """Serve every page under CSP from now on; return the list the browser's refusals (and any
    other unexpected console error) are collected in."""
    refused: list[str] = []

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": CSP}
        )

    page.context.route(
        lambda url: True,
        lambda route: (
            with_policy(route) if route.request.resource_type == "document" else route.continue_()
        ),
    )
    # The page answered again after a refused form comes with status 400, which the browser
    # logs as an error too: that one is expected, every other error counts.
    expected = "the server responded with a status of 400"

    def console(message: Any) -> None:
        if message.type == "error" and expected not in message.text:
            refused.append(message.text)

    page.context.on("console", console)
    page.on("pageerror", lambda error: refused.append(str(error)))
    return refused


def test_the_client_signs_ticks_the_terms_and_the_acceptance_records_who_on_which_terms(
    page: Any, live_server: Any, tmp_path: Path
) -> None:
    plan = PlanFactory(name="Business Care", monthly_price=Decimal("400.00"))
    terms = plan_terms_set(
        plan=plan,
        summary="Business Care: 12 months at the price in your offer, 8 hours a month included.",
        text="1. Service. Your tickets come first.\n\n2. Term. Twelve months, renewed unless "
        "either side cancels in writing.",
    )
    offer = OfferFactory(
        client=ClientFactory(name="Lakeside Veterinary Clinic"),
        plan=plan,
        terms=terms,
        discount_percent=Decimal("8.00"),
        discount_first_term_only=True,
    )
    refused = _under_strict_csp(page)

    page.goto(f"{live_server.url}/offers/{offer_token(offer)}/")
    card = page.locator("#accept")
    assert "The terms in short (version 2)" in card.inner_text()
    assert "8 hours a month included" in card.inner_text()
    assert "after them, the plan's price applies (today $400.00 a month)" in (
        page.locator("#discount-term").inner_text()
    )

    # The full terms open in a tab of their own: what is typed on the offer stays.
    page.fill("#id_signer_name", "Priya Nair")
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="terms of the Business Care contract").click()
    terms_tab = opened.value
    terms_tab.wait_for_load_state()
    assert "Version 2, of" in terms_tab.locator("#terms-version").inner_text()
    assert "2. Term. Twelve months" in terms_tab.locator("#terms-text").inner_text()
    terms_tab.close()

    # Once without the tick: the page comes back with the reason, and nothing is accepted.
    page.fill("#id_signer_role", "Practice manager")
    page.click("#accept-offer")
    page.locator("#accept-errors").wait_for()
    assert "Tick “I agree to the terms” to accept the contract." in (
        page.locator("#accept-errors").inner_text()
    )
    assert page.input_value("#id_signer_name") == "Priya Nair"
    assert page.input_value("#id_signer_role") == "Practice manager"
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert not ServiceContract.objects.exists()

    page.locator("#accept").screenshot(path=screenshots_dir(tmp_path) / "offer-accept.png")

    page.check("#id_agree")
    user_agent = page.evaluate("navigator.userAgent")
    page.click("#accept-offer")
    page.get_by_role("heading", name="Welcome aboard, Lakeside Veterinary Clinic").wait_for()

    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert (offer.signer_name, offer.signer_role) == ("Priya Nair", "Practice manager")
    assert offer.terms == terms
    assert offer.terms.version == 2
    assert offer.accepted_ip == "127.0.0.1"
    assert offer.accepted_user_agent == user_agent
    assert offer.opened_at is not None
    contract = ServiceContract.objects.get(client=offer.client)
    assert contract.discount_first_term_only
    assert refused == []
