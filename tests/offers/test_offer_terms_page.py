"""The terms page of an offer (/offers/<token>/terms/): the version of the plan's terms the offer
is made on, in full, behind the offer's own signed link; for open and closed offers alike, since
a client may come back to read what it agreed to.

The personas of a public page: the client holding the link, staff following the same link (who
get exactly the client's page), a visitor whose link is not valid.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from contracts.models import ContractTerms
from contracts.services import plan_terms_set
from offers.models import ConversionOffer, OfferStatus
from offers.tokens import offer_token
from tests.conftest import NOW
from tests.factories import OfferFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _terms_url(offer: ConversionOffer, purpose: str = "offer") -> str:
    return reverse("offers:offer_terms", args=[offer_token(offer, purpose)])  # type: ignore[arg-type]


@pytest.fixture
def offer(now: dt.datetime) -> ConversionOffer:
    """An offer of the Essentials plan, made with version 2 of its terms."""
    plan = PlanFactory(name="Essentials")
    terms = plan_terms_set(
        plan=plan,
        summary="Essentials: twelve months, five hours a month.",
        text="1. Service. We answer first.\n\n2. Term. Twelve months.\nRenewed unless cancelled.",
    )
    return OfferFactory(plan=plan, terms=terms)


def test_the_terms_page_shows_the_offers_version_in_full(offer, anon_client):
    response = anon_client.get(_terms_url(offer))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Terms of the Essentials contract" in page
    assert "Version 2, of 10 March 2025." in page
    assert "Essentials: twelve months, five hours a month." in page
    # Paragraphs stay paragraphs and a single line break stays a line break.
    assert "<p>1. Service. We answer first.</p>" in page
    assert "<p>2. Term. Twelve months.<br>Renewed unless cancelled.</p>" in page
    assert 'href="' + reverse("offers:offer", args=[offer_token(offer)]) + '"' in page
    # The page is reached by a live link: no cache may keep it.
    assert "no-store" in response["Cache-Control"]


def test_the_terms_page_shows_the_version_the_offer_was_made_with_not_a_newer_one(
    offer, anon_client
):
    plan_terms_set(plan=offer.plan, summary="Newer summary.", text="Newer terms.")

    page = anon_client.get(_terms_url(offer)).content.decode()

    assert "Version 2," in page
    assert "Newer" not in page


def test_an_offer_made_before_terms_were_versioned_shows_the_plans_current_terms(
    offer, anon_client
):
    legacy = OfferFactory(plan=offer.plan, terms=None, client__name="Older Client")
    plan_terms_set(plan=offer.plan, summary="Current summary.", text="Current terms.")

    page = anon_client.get(_terms_url(legacy)).content.decode()

    assert "Version 3," in page
    assert "Current summary." in page
    assert "Current terms." in page


def test_a_plan_that_never_had_terms_shows_its_standard_terms(anon_client, now):
    offer = OfferFactory(terms=None)
    ContractTerms.objects.filter(plan=offer.plan).delete()

    page = anon_client.get(_terms_url(offer)).content.decode()

    assert "Version 1," in page
    assert "1. Service. We provide IT support under the" in page


def test_the_terms_are_escaped(anon_client, now):
    plan = PlanFactory(name="<b>Bold</b> plan")
    terms = plan_terms_set(
        plan=plan,
        summary='<script>alert("summary")</script>',
        text='<img src=x onerror="alert(1)">\n\nFees & <i>charges</i>',
    )
    offer = OfferFactory(plan=plan, terms=terms)

    page = anon_client.get(_terms_url(offer)).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;summary&quot;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "Fees &amp; &lt;i&gt;charges&lt;/i&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt; plan" in page


@pytest.mark.parametrize(
    "status", [OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN]
)
def test_a_closed_offers_terms_can_still_be_read(offer, anon_client, status):
    ConversionOffer.objects.filter(pk=offer.pk).update(status=status, responded_at=NOW)

    response = anon_client.get(_terms_url(offer))

    assert response.status_code == 200
    assert "Essentials: twelve months" in response.content.decode()
    # No way back to an offer that can no longer be answered.
    assert "Back to the offer" not in response.content.decode()


def test_an_accepted_offers_terms_say_who_accepted_them_and_when(offer, anon_client):
    ConversionOffer.objects.filter(pk=offer.pk).update(
        status=OfferStatus.ACCEPTED,
        responded_at=NOW,
        signer_name="Dana <Whitfield>",
        signer_role="Office manager",
    )

    page = anon_client.get(_terms_url(offer)).content.decode()

    assert "Version 2, of 10 March 2025." in page
    assert (
        f"Accepted for {offer.client.name} on 10 March 2025 by Dana &lt;Whitfield&gt; "
        "(Office manager)." in page
    )


def test_staff_following_the_link_see_the_clients_page(offer, consultant_client):
    response = consultant_client.get(_terms_url(offer))

    assert response.status_code == 200
    assert "Essentials: twelve months" in response.content.decode()
    assert "/admin/" not in response.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        reverse("offers:offer_terms", args=["guessing-a-link"]),
        pytest.param(None, id="tampered"),
    ],
)
def test_a_visitor_without_a_valid_link_gets_404(offer, anon_client, url):
    if url is None:
        token = offer_token(offer)
        url = reverse("offers:offer_terms", args=[token[:-1] + ("A" if token[-1] != "A" else "B")])

    response = anon_client.get(url)

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert "Essentials" not in response.content.decode()


def test_the_unsubscribe_link_does_not_open_the_terms(offer, anon_client):
    assert anon_client.get(_terms_url(offer, "unsubscribe")).status_code == 404


def test_the_terms_page_only_answers_get(offer, anon_client):
    assert anon_client.post(_terms_url(offer)).status_code == 405
