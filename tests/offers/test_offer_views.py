"""The public offer pages (contracts.views): the offer, accept, decline and one-click unsubscribe.

Clients never log in: the link is the credential. So the three personas here are the client
holding a valid link, a logged-in member of staff following the same link (who must get exactly
the client's page: the pages know nothing about staff), and a visitor whose link is not valid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.services import client_drop
from contracts.models import ContractStatus, ServiceContract
from offers.delivery import offers_send_batch
from offers.models import ConversionOffer, OfferStatus
from offers.services import offer_accept, offer_decline, offer_opened
from offers.tokens import offer_token
from tests.conftest import DAY, NOW, SIGNER, TODAY
from tests.factories import (
    ClientFactory,
    ContractFactory,
    OfferFactory,
    PendingOfferFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import QueueTier

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0"


@pytest.fixture
def offer(now: dt.datetime) -> ConversionOffer:
    """$290.00 less 11%: $258.10 a month; the client paid $2,550.00 against $3,097.20."""
    return OfferFactory(
        client=ClientFactory(name="Acme Dental", customer_since=dt.date(2021, 5, 1)),
        plan=PlanFactory(name="Essentials", monthly_price=Decimal("290.00"), included_hours=5),
    )


@pytest.fixture
def browser() -> HttpClient:
    """A browser as the client has it: CSRF checks on, as in production."""
    return HttpClient(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.7")


def _url(name: str, offer: ConversionOffer) -> str:
    # The unsubscribe link carries its own token: the offer's link cannot opt out, and the
    # unsubscribe link (which mailbox providers see) cannot accept.
    purpose = "unsubscribe" if name == "unsubscribe" else "offer"
    return reverse(f"offers:{name}", args=[offer_token(offer, purpose)])


# The acceptance form as a client fills it in.
SIGNED = {"signer_name": "Dana Whitfield", "signer_role": "Office manager", "agree": "on"}


def _post_from_the_page(
    http: HttpClient, offer: ConversionOffer, name: str, form: dict[str, str] | None = None
) -> Any:
    """Open the offer page (which sets the CSRF cookie), then submit one of its forms (the
    acceptance form filled in as SIGNED, unless `form` says otherwise)."""
    assert http.get(_url("offer", offer)).status_code == 200
    if form is None:
        form = SIGNED if name == "offer_accept" else {}
    return http.post(
        _url(name, offer), {"csrfmiddlewaretoken": http.cookies["csrftoken"].value, **form}
    )


# --- The offer page ---------------------------------------------------------------------------
def test_the_offer_page_shows_the_plan_the_discounted_price_and_the_savings_statement(
    offer, anon_client
):
    response = anon_client.get(_url("offer", offer))

    assert response.status_code == 200
    page = response.content.decode()
    assert "A service contract for Acme Dental" in page
    assert "The Essentials contract" in page
    # The terms the client signs up to: included work and its overage rate, cover, term,
    # response and resolution targets.
    assert "5 hours a month; beyond that, $110.00 an hour" in page
    assert "In business hours: Monday to Friday, 08:00 to 18:00 (New York time)" in page
    assert "12 months from the day you accept, renewed for another 12" in page
    assert "first response within 1 business hour, resolved within 4 business hours" in page
    assert "$258.10" in page
    assert '<s class="text-body-secondary">$290.00</s>' in page
    assert "11% loyalty discount" in page
    assert "19.20 hours of work on 7 tickets" in page
    assert "$150.00 for 2 priority call-outs" in page
    assert "$2,400.00" in page
    assert "$150.00" in page
    assert "$2,550.00" in page  # what the client paid
    assert "$3,097.20" in page  # the same year on contract
    assert 'action="' + _url("offer_accept", offer) + '"' in page
    assert 'action="' + _url("offer_decline", offer) + '"' in page
    assert 'href="' + _url("unsubscribe", offer) + '"' in page
    assert page.count('name="csrfmiddlewaretoken"') == 2
    # The page carries a live link: no cache may keep it.
    assert "no-store" in response["Cache-Control"]


def test_an_offer_to_a_client_with_no_year_behind_it_shows_no_statement(anon_client):
    # Offered by hand before any work: no "last twelve months" of zeros.
    offer = OfferFactory(
        trailing_labour=Decimal("0.00"),
        trailing_priority=Decimal("0.00"),
        trailing_hours=Decimal("0.00"),
        trailing_tickets=0,
        priority_purchases=0,
    )

    page = anon_client.get(_url("offer", offer)).content.decode()

    assert "Your last twelve months" not in page
    assert "more over the year" not in page
    assert "11% discount" in page
    assert "loyalty" not in page
    assert "Accept the contract" in page


def test_the_offer_page_states_what_the_contract_would_have_cost_more_to_the_cent(
    offer, anon_client
):
    # Paid $2,550.00, the contract would have been $3,097.20: $547.20 more.
    page = anon_client.get(_url("offer", offer)).content.decode()

    assert "For <strong>$547.20</strong> more over the year" in page


def test_the_offer_page_of_a_client_who_would_have_saved_says_how_much(now, anon_client):
    offer = OfferFactory(trailing_labour=Decimal("3500.00"), trailing_priority=Decimal("75.00"))

    page = anon_client.get(_url("offer", offer)).content.decode()

    # Paid $3,575.00 against $3,097.20 on contract.
    assert "You would have saved <strong>$477.80</strong>" in page


def test_looking_at_the_offer_answers_nothing(offer, anon_client):
    anon_client.get(_url("offer", offer))

    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert offer.responded_at is None
    assert not ServiceContract.objects.exists()


# --- Opened -----------------------------------------------------------------------------------
def test_the_first_look_at_the_offer_marks_it_opened_and_later_looks_keep_that_time(
    offer, anon_client, time_machine
):
    assert offer.opened_at is None

    anon_client.get(_url("offer", offer))
    time_machine.move_to(NOW + DAY, tick=False)
    anon_client.get(_url("offer", offer))

    offer.refresh_from_db()
    assert offer.opened_at == NOW


def test_a_second_look_does_not_write_again(offer, anon_client):
    anon_client.get(_url("offer", offer))

    with CaptureQueriesContext(connection) as queries:
        anon_client.get(_url("offer", offer))

    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]


def test_offer_opened_records_the_first_time_only(offer):
    other_tab = ConversionOffer.objects.get(pk=offer.pk)  # read before either tab wrote

    first = offer_opened(offer=offer, now=NOW)
    second = offer_opened(offer=other_tab, now=NOW + DAY)

    assert (first, second) == (True, False)
    offer.refresh_from_db()
    assert offer.opened_at == NOW


@pytest.mark.parametrize(
    "status", [OfferStatus.ACCEPTED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN]
)
def test_the_page_of_a_closed_offer_does_not_mark_it_opened(offer, anon_client, status):
    ConversionOffer.objects.filter(pk=offer.pk).update(status=status)

    anon_client.get(_url("offer", offer))

    offer.refresh_from_db()
    assert offer.opened_at is None


@pytest.mark.parametrize("page", ["offer_terms", "offer_accept", "offer_decline", "unsubscribe"])
def test_other_pages_of_the_offer_do_not_mark_it_opened(offer, anon_client, page):
    anon_client.get(_url(page, offer))

    offer.refresh_from_db()
    assert offer.opened_at is None


def test_staff_following_a_clients_link_see_the_clients_page_and_nothing_more(
    offer, consultant_client
):
    response = consultant_client.get(_url("offer", offer))

    assert response.status_code == 200
    assert "A service contract for Acme Dental" in response.content.decode()
    assert "/admin/" not in response.content.decode()


def test_a_visitor_without_a_valid_link_gets_404(offer, anon_client):
    response = anon_client.get(reverse("offers:offer", args=["guessing-a-link"]))

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


# --- Accepting --------------------------------------------------------------------------------
def test_accepting_creates_the_contract_at_the_offered_price_and_notifies_after_commit(
    offer, browser, manager, consultant, mailoutbox, django_capture_on_commit_callbacks
):
    open_ticket = TicketFactory(client=offer.client, opened_at=NOW - DAY)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post_from_the_page(browser, offer, "offer_accept")

    assert response.status_code == 200
    assert "Welcome aboard, Acme Dental" in response.content.decode()
    contract = ServiceContract.objects.get()
    assert contract.client == offer.client
    assert contract.plan == offer.plan
    assert contract.status == ContractStatus.ACTIVE
    assert contract.monthly_price == Decimal("258.10")
    assert contract.discount_percent == Decimal("11.00")
    assert contract.offer == offer
    assert contract.starts_on == TODAY
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.responded_at == NOW
    assert offer.accepted_ip == "203.0.113.7"
    assert offer.accepted_user_agent == BROWSER
    open_ticket.refresh_from_db()
    assert open_ticket.queue_tier == QueueTier.CONTRACT
    assert open_ticket.contract == contract
    to_client, to_managers = mailoutbox
    assert [parseaddr(a)[1] for a in to_client.to] == [offer.email]
    assert "Essentials" in to_client.subject
    assert to_managers.to == [manager.email]
    assert "Acme Dental accepted" in to_managers.subject


def test_the_acceptance_emails_wait_for_the_commit(offer, browser, manager, mailoutbox):
    # Without running the on-commit callbacks (the test's transaction never commits).
    response = _post_from_the_page(browser, offer, "offer_accept")

    assert response.status_code == 200
    assert mailoutbox == []


def test_accepting_without_the_csrf_token_is_refused_and_changes_nothing(offer, browser):
    no_cookie = browser.post(_url("offer_accept", offer))
    browser.get(_url("offer", offer))  # now with the cookie, still without the form's token
    no_token = browser.post(_url("offer_accept", offer))

    assert (no_cookie.status_code, no_token.status_code) == (403, 403)
    assert not ServiceContract.objects.exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


@pytest.mark.parametrize("action", ["offer_accept", "offer_decline"])
def test_opening_the_accept_or_decline_address_leads_back_to_the_offer_and_changes_nothing(
    offer, anon_client, action
):
    # Reopened from the browser's history after answering, say: no bare 405 page.
    response = anon_client.get(_url(action, offer))

    assert response.status_code == 302
    assert response["Location"] == _url("offer", offer)
    assert not ServiceContract.objects.exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_opening_the_accept_address_after_accepting_shows_the_offer_is_accepted(offer, anon_client):
    offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")

    response = anon_client.get(_url("offer_accept", offer), follow=True)

    assert response.status_code == 409
    assert "You accepted this offer already." in response.content.decode()


def test_opening_the_decline_address_after_declining_shows_the_offer_is_declined(
    offer, anon_client
):
    offer_decline(offer=offer)

    response = anon_client.get(_url("offer_decline", offer), follow=True)

    assert response.status_code == 409
    assert "You declined this offer." in response.content.decode()


def test_a_tampered_accept_address_is_not_valid_whatever_the_method(offer, anon_client):
    url = _url("offer_accept", offer).replace("/accept/", "x/accept/")

    assert anon_client.get(url).status_code == 404
    assert anon_client.post(url).status_code == 404


def test_a_double_click_on_accept_accepts_once(
    offer, browser, manager, mailoutbox, django_capture_on_commit_callbacks
):
    browser.get(_url("offer", offer))
    token = {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value, **SIGNED}

    with django_capture_on_commit_callbacks(execute=True):
        first = browser.post(_url("offer_accept", offer), token)
        second = browser.post(_url("offer_accept", offer), token)

    # The second click gets the first one's answer: the welcome page of the one contract.
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.context["contract"] == second.context["contract"]
    assert "Welcome aboard" in second.content.decode()
    assert ServiceContract.objects.count() == 1
    assert len(mailoutbox) == 2  # one confirmation, one notice


def test_a_client_who_meanwhile_got_a_contract_cannot_accept(offer, browser):
    existing = ContractFactory(client=offer.client)

    response = _post_from_the_page(browser, offer, "offer_accept")

    assert response.status_code == 409
    assert "already have a service contract" in response.content.decode()
    assert list(ServiceContract.objects.all()) == [existing]
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


def test_a_dropped_clients_link_neither_offers_nor_claims_a_contract(offer, browser):
    # The practice dropped the client while its offer was still open (drop candidates are
    # exactly the clients who did not take their offer). The page must not invite it to accept,
    # and refusing must not tell it that it "is on a service contract with us".
    client_drop(client=offer.client, reason="Never converted")

    page = browser.get(_url("offer", offer))
    response = browser.post(
        _url("offer_accept", offer), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    )

    assert not ServiceContract.objects.exists()
    assert 'id="accept-offer"' not in page.content.decode()
    assert "is on a service contract" not in response.content.decode()
    assert (page.status_code, response.status_code) == (410, 410)
    assert "This offer was withdrawn" in response.content.decode()


def test_the_link_of_a_client_who_opted_out_meanwhile_is_withdrawn(offer, browser):
    # Opted out by staff (the client asked on the phone): its open offer must not be accepted.
    offer.client.offers_opt_out = True
    offer.client.save()

    page = browser.get(_url("offer", offer))

    assert page.status_code == 410
    assert 'id="accept-offer"' not in page.content.decode()


# --- Declining --------------------------------------------------------------------------------
def test_declining_records_the_answer(offer, browser, mailoutbox):
    response = _post_from_the_page(browser, offer, "offer_decline")

    assert response.status_code == 200
    assert "Thank you for letting us know" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED
    assert offer.responded_at == NOW
    assert not ServiceContract.objects.exists()
    assert mailoutbox == []


def test_declining_without_the_csrf_token_is_refused(offer, browser):
    response = browser.post(_url("offer_decline", offer))

    assert response.status_code == 403
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


# --- Unsubscribing ----------------------------------------------------------------------------
def test_the_unsubscribe_link_asks_for_confirmation_first(offer, anon_client):
    response = anon_client.get(_url("unsubscribe", offer))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop sending contract offers to Acme Dental?" in page
    assert f'<form method="post" action="{_url("unsubscribe", offer)}">' in page
    offer.refresh_from_db()
    offer.client.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert not offer.client.offers_opt_out


def test_one_click_unsubscribe_works_without_cookies_or_csrf_token(offer):
    # What a mail client does for RFC 8058: a bare POST, no cookies, no token.
    mail_client = HttpClient(enforce_csrf_checks=True)

    response = mail_client.post(
        _url("unsubscribe", offer),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200  # not a redirect: one-click senders do not follow them
    assert "Done: no more offers" in response.content.decode()
    offer.refresh_from_db()
    offer.client.refresh_from_db()
    assert offer.client.offers_opt_out
    assert offer.status == OfferStatus.WITHDRAWN
    assert offer.responded_at == NOW


def test_unsubscribing_from_an_accepted_offer_keeps_the_contract(offer, anon_client):
    assert _post_from_the_page(anon_client, offer, "offer_accept").status_code == 200

    response = anon_client.post(_url("unsubscribe", offer))

    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert ServiceContract.objects.active().get().offer == offer


def test_the_unsubscribe_header_of_the_email_opts_the_client_out(now, mailoutbox):
    offer = PendingOfferFactory()
    offers_send_batch([offer.pk])
    (message,) = mailoutbox
    unsubscribe_url = message.extra_headers["List-Unsubscribe"].strip("<>")

    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_url == settings.SITE_URL + _url("unsubscribe", offer)
    response = HttpClient(enforce_csrf_checks=True).post(
        unsubscribe_url.removeprefix(settings.SITE_URL),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    offer.refresh_from_db()
    offer.client.refresh_from_db()
    assert offer.client.offers_opt_out
    assert offer.status == OfferStatus.WITHDRAWN
