"""The binding acceptance on the offer page: the signer's name and role and a tick on the terms.

A missing name, a blank one, an unticked box or an over-long field answers the page again (400)
with the reason and changes nothing; a complete form records who accepted, on which version of
the terms, when, from which address and with which browser.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import ClientEvent
from contracts.models import ServiceContract
from contracts.services import plan_terms_set
from offers.models import ConversionOffer, OfferStatus
from offers.tokens import offer_token
from tests.conftest import NOW
from tests.factories import ClientFactory, OfferFactory, PlanFactory

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/135.0"
SIGNED = {"signer_name": "Dana Whitfield", "signer_role": "Office manager", "agree": "on"}


@pytest.fixture
def offer(now: dt.datetime) -> ConversionOffer:
    """An offer made with version 2 of the Essentials plan's terms."""
    plan = PlanFactory(name="Essentials", monthly_price=290, included_hours=5)
    terms = plan_terms_set(
        plan=plan, summary="Twelve months, five hours a month.", text="1. Service."
    )
    return OfferFactory(client=ClientFactory(name="Acme Dental"), plan=plan, terms=terms)


@pytest.fixture
def browser() -> HttpClient:
    """A browser as the client has it: CSRF checks on, as in production."""
    return HttpClient(enforce_csrf_checks=True, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="10.0.0.2")


def _url(name: str, offer: ConversionOffer) -> str:
    return reverse(f"offers:{name}", args=[offer_token(offer)])


def _submit(http: HttpClient, offer: ConversionOffer, form: dict[str, str], **extra: Any) -> Any:
    """Open the offer page (for the CSRF cookie), then submit the acceptance form."""
    assert http.get(_url("offer", offer)).status_code == 200
    data = {"csrfmiddlewaretoken": http.cookies["csrftoken"].value, **form}
    return http.post(_url("offer_accept", offer), data, **extra)


def _row(offer: ConversionOffer) -> dict[str, Any]:
    return model_to_dict(ConversionOffer.objects.get(pk=offer.pk))


# --- The form on the page -----------------------------------------------------------------------
def test_the_offer_page_asks_for_the_signer_and_a_tick_on_the_terms(offer, anon_client):
    response = anon_client.get(_url("offer", offer))

    page = response.content.decode()
    terms_url = _url("offer_terms", offer)
    assert 'id="accept-form"' in page
    assert f'action="{_url("offer_accept", offer)}"' in page
    assert 'name="signer_name"' in page
    assert 'maxlength="200"' in page
    assert "Your role at Acme Dental" in page
    assert 'type="checkbox" name="agree"' in page
    assert (
        f'I agree to the <a href="{terms_url}" target="_blank" rel="noopener">terms of the '
        "Essentials contract</a> (version 2)" in page
    )
    # The summary of the version the client agrees to, on the page itself.
    assert "The terms in short (version 2)" in page
    assert "Twelve months, five hours a month." in page
    # Declining stays one click.
    assert f'action="{_url("offer_decline", offer)}"' in page
    assert "No, thank you" in page


def test_a_first_term_discount_says_what_the_price_is_after_the_first_term(anon_client, now):
    offer = OfferFactory(discount_first_term_only=True)

    page = anon_client.get(_url("offer", offer)).content.decode()

    assert (
        "The discount is for the first 12 months; after them, the plan's price applies "
        "(today $290.00 a month)." in page
    )


def test_a_discount_for_every_term_says_nothing_of_an_end(anon_client, now):
    offer = OfferFactory(discount_first_term_only=False)

    assert 'id="discount-term"' not in anon_client.get(_url("offer", offer)).content.decode()


# --- What a complete form records ---------------------------------------------------------------
def test_a_complete_form_accepts_and_records_who_on_which_terms_from_where(
    offer, browser, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _submit(
            browser,
            offer,
            {"signer_name": "  Dana   Whitfield ", "signer_role": " Office manager", "agree": "on"},
        )

    assert response.status_code == 200
    assert "Welcome aboard, Acme Dental" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert (offer.signer_name, offer.signer_role) == ("Dana Whitfield", "Office manager")
    assert offer.terms.version == 2
    assert offer.responded_at == NOW
    assert offer.accepted_ip == "10.0.0.2"
    assert offer.accepted_user_agent == BROWSER
    assert ServiceContract.objects.get().offer == offer


def test_a_name_and_role_of_exactly_200_characters_are_accepted(offer, browser):
    response = _submit(
        browser, offer, {"signer_name": "N" * 200, "signer_role": "R" * 200, "agree": "on"}
    )

    assert response.status_code == 200
    offer.refresh_from_db()
    assert (offer.signer_name, offer.signer_role) == ("N" * 200, "R" * 200)


def test_behind_a_trusted_proxy_the_acceptance_records_the_address_the_proxy_saw(
    offer, browser, settings
):
    settings.TRUSTED_PROXY_COUNT = 1

    _submit(browser, offer, SIGNED, HTTP_X_FORWARDED_FOR="198.51.100.66, 203.0.113.7")

    offer.refresh_from_db()
    assert offer.accepted_ip == "203.0.113.7"


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(offer, browser, settings):
    settings.TRUSTED_PROXY_COUNT = 0

    _submit(browser, offer, SIGNED, HTTP_X_FORWARDED_FOR="198.51.100.66")

    offer.refresh_from_db()
    assert offer.accepted_ip == "10.0.0.2"


# --- What an incomplete form answers ------------------------------------------------------------
INCOMPLETE = [
    pytest.param(
        {"signer_role": "Office manager", "agree": "on"},
        "Enter your full name: it is how you sign the contract.",
        id="no-name",
    ),
    pytest.param(
        {**SIGNED, "signer_name": "   \t "},
        "Enter your full name: it is how you sign the contract.",
        id="blank-name",
    ),
    pytest.param(
        {**SIGNED, "signer_role": ""},
        "Enter your role: we need to know you may sign for the company.",
        id="no-role",
    ),
    pytest.param(
        {"signer_name": "Dana Whitfield", "signer_role": "Office manager"},
        "Tick “I agree to the terms” to accept the contract.",
        id="unticked",
    ),
    pytest.param(
        {**SIGNED, "signer_name": "N" * 201},
        "Your name can be at most 200 characters long (it has 201).",
        id="long-name",
    ),
    pytest.param(
        {**SIGNED, "signer_role": "R" * 201},
        "Your role can be at most 200 characters long (it has 201).",
        id="long-role",
    ),
]


@pytest.mark.parametrize(("form", "reason"), INCOMPLETE)
def test_an_incomplete_form_answers_the_page_again_with_the_reason_and_changes_nothing(
    offer, browser, mailoutbox, django_capture_on_commit_callbacks, form, reason
):
    browser.get(_url("offer", offer))  # the first look, before the row is read
    before = _row(offer)
    events = ClientEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        response = _submit(browser, offer, form)

    assert response.status_code == 400
    page = response.content.decode()
    assert "The contract is not accepted yet" in page
    assert reason in page
    # The same offer page, with the form to correct.
    assert "A service contract for Acme Dental" in page
    assert 'id="accept-form"' in page
    assert _row(offer) == before
    assert not ServiceContract.objects.exists()
    assert ClientEvent.objects.count() == events
    assert mailoutbox == []


def test_the_page_answered_again_keeps_what_was_typed(offer, browser):
    response = _submit(browser, offer, {"signer_name": "Dana Whitfield", "signer_role": "Owner"})

    page = response.content.decode()
    assert 'value="Dana Whitfield"' in page
    assert 'value="Owner"' in page


def test_what_was_typed_is_escaped_when_the_page_is_answered_again(offer, browser):
    response = _submit(browser, offer, {"signer_name": '"><script>alert(1)</script>'})

    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_closed_offer_says_it_is_closed_whatever_the_form_says(offer, browser):
    browser.get(_url("offer", offer))
    ConversionOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.EXPIRED)

    response = browser.post(
        _url("offer_accept", offer), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    )

    assert response.status_code == 410
    assert "This offer has expired" in response.content.decode()
    assert "The contract is not accepted yet" not in response.content.decode()


def test_the_unticked_box_can_be_ticked_on_the_page_answered_again(offer, browser):
    first = _submit(browser, offer, {"signer_name": "Dana Whitfield", "signer_role": "Owner"})
    second = browser.post(
        _url("offer_accept", offer),
        {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value, **SIGNED},
    )

    assert (first.status_code, second.status_code) == (400, 200)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    assert offer.signer_name == "Dana Whitfield"
