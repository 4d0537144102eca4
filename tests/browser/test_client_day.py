"""A client's side, in a real browser: the conversion campaign emails two regular break-fix
clients over SMTP to a real mail server on loopback; one opens its email, follows the link to
the offer and accepts it (the signer's name and role, a tick on the terms), and gets the
confirmation by email; the other unsubscribes with the link in its own email. Every page runs
under the strict Content-Security-Policy and axe-core finds no serious accessibility failure on
it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Client, ClientEvent, ClientEventKind
from contracts.models import ContractStatus, ServiceContract
from offers.campaign import replay_months
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run
from tests.browser.emails import addressed_to, links, part
from tests.browser.strict import assert_accessible, screenshots_dir
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    PlanFactory,
    TicketFactory,
)
from tests.integration.servers import wait_for
from tests.smtp import Inbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIYA = "priya@lakeside-vets.example"
SAM = "sam@corner-bakery.example"


def _regular(name: str, contact: str, email: str, *, years: int) -> Client:
    """A break-fix client for `years` years and 40 days with a ticket in each of the last twelve
    whole months, billed 4 hours of labour ($500.00) for each: $6,000.00 a year."""
    client = ClientFactory(
        name=name, customer_since=timezone.localdate() - dt.timedelta(days=years * 365 + 40)
    )
    ContactFactory(client=client, name=contact, email=email)
    for month in replay_months(timezone.now()):
        worked = month.starts_at() + dt.timedelta(days=14)
        TicketFactory(client=client, opened_at=worked)
        ChargeFactory(
            client=client, amount=Decimal("500.00"), hours=Decimal("4.00"), occurred_at=worked
        )
    return client


def _offer_and_unsubscribe_links(email: Message) -> tuple[str, str]:
    """The two links of an offer email's text: to the offer, and to stop offers."""
    offer_link, unsubscribe_link = links(email)
    assert "/offers/" in offer_link
    assert unsubscribe_link.endswith("/unsubscribe/")
    return offer_link, unsubscribe_link


def test_a_client_accepts_the_emailed_offer_and_another_unsubscribes_from_theirs(
    strict_page: Any, live_server: Any, manager: User, mail_server: Inbox, tmp_path: Path
) -> None:
    # Business Care: $400.00 a month with 6 hours included. Lakeside has been a client for
    # three years (8% off: 5% and 1% a year), Corner Bakery for one (6%).
    PlanFactory(name="Business Care", monthly_price=Decimal("400.00"), included_hours=Decimal("6"))
    lakeside = _regular("Lakeside Veterinary Clinic", "Priya Nair", PRIYA, years=3)
    bakery = _regular("Corner Bakery", "Sam Roe", SAM, years=1)
    page, shots = strict_page, screenshots_dir(tmp_path)

    assert campaign_run().offers_created == 2
    wait_for(lambda: len(mail_server) == 2, timeout=10, what="the two offers")
    (offer_email,) = addressed_to(mail_server, PRIYA)
    assert offer_email["Subject"].startswith("Lakeside Veterinary Clinic")
    offer_link, _ = _offer_and_unsubscribe_links(offer_email)
    assert offer_link.startswith(f"{live_server.url}/offers/")

    # Priya reads the email (its HTML part, as her mail program shows it) and follows its link.
    page.set_content(part(offer_email, "text/html"))
    email_text = page.locator("body").inner_text()
    assert "$368.00 a month" in email_text  # $400.00 less 8%
    assert "Work billed by the hour (48.0 hours, 12 tickets)" in email_text
    page.screenshot(path=shots / "offer-email.png", full_page=True)
    page.get_by_role("link", name="See the offer, month by month").click()
    page.wait_for_url(offer_link)
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "A service contract for Lakeside Veterinary Clinic"
    assert "$368.00 a month" in page.locator("main").inner_text()
    assert "You would have saved" in page.locator("main").inner_text()
    assert_accessible(page, live_server)

    page.get_by_label("Your full name").fill("Priya Nair")
    page.get_by_label("Your role at Lakeside Veterinary Clinic").fill("Practice manager")
    page.check("#id_agree")
    page.click("#accept-offer")
    page.get_by_role("heading", name="Welcome aboard, Lakeside Veterinary Clinic").wait_for()
    today = timezone.localdate()
    welcome = page.locator("main").inner_text()
    assert f"starts today, {today:%-d %B %Y}" in welcome
    assert "at $368.00 a month" in welcome
    assert f"A confirmation is on its way to {PRIYA}." in welcome
    assert_accessible(page, live_server)

    offer = ConversionOffer.objects.get(client=lakeside)
    assert (offer.status, offer.signer_name, offer.signer_role) == (
        OfferStatus.ACCEPTED,
        "Priya Nair",
        "Practice manager",
    )
    contract = ServiceContract.objects.get(client=lakeside)
    assert (contract.status, contract.starts_on, contract.monthly_price) == (
        ContractStatus.ACTIVE,
        today,
        Decimal("368.00"),
    )
    # The confirmation reaches Priya, and the managers hear of it in an email of their own.
    wait_for(lambda: len(mail_server) == 4, timeout=10, what="the confirmation and the notice")
    confirmation = addressed_to(mail_server, PRIYA)[-1]
    assert confirmation["Subject"] == "Welcome to your Business Care service contract"
    text = part(confirmation, "text/plain")
    assert (
        "Lakeside Veterinary Clinic is now on our Business Care service contract, accepted by "
        f"Priya Nair (Practice manager) on {today:%-d %B %Y}."
    ) in text
    assert "Price:   $368.00 a month (8% loyalty discount)" in text
    (notice,) = addressed_to(mail_server, manager.email)
    assert notice["Subject"] == (
        "Lakeside Veterinary Clinic accepted the Business Care contract offer"
    )

    # Sam wants no offers: the link at the foot of the bakery's email, which is also the one
    # a mail program's own unsubscribe button posts to (RFC 8058).
    (bakery_email,) = addressed_to(mail_server, SAM)
    _, unsubscribe_link = _offer_and_unsubscribe_links(bakery_email)
    assert bakery_email["List-Unsubscribe"] == f"<{unsubscribe_link}>"
    page.goto(unsubscribe_link)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Stop sending contract offers to Corner Bakery?"
    )
    page.screenshot(path=shots / "offer-unsubscribe.png", full_page=True)
    assert_accessible(page, live_server)
    page.get_by_role("button", name="Yes, no more offers").click()
    page.get_by_role("heading", name="Done: no more offers").wait_for()
    assert "We will not send Corner Bakery contract offers again." in (
        page.locator("main").inner_text()
    )
    assert_accessible(page, live_server)

    bakery.refresh_from_db()
    assert bakery.offers_opt_out
    assert ConversionOffer.objects.get(client=bakery).status == OfferStatus.WITHDRAWN
    assert ClientEvent.objects.filter(client=bakery, kind=ClientEventKind.OPTED_OUT).count() == 1
    assert not ServiceContract.objects.filter(client=bakery).exists()
    assert len(mail_server) == 4  # unsubscribing sends nothing
