"""Signed offer links (offers.tokens) and what the public pages answer for each kind of bad or
used link: 404 for a link that names no offer, 409 for an answered one (an accept sent again
gets the first accept's page), 410 for one whose time or whose offer is gone. Whatever the
link, a refused request changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import signing
from django.test import Client as HttpClient
from django.urls import reverse

from contracts.models import ServiceContract
from offers.models import ConversionOffer, OfferStatus
from offers.services import offer_accept
from offers.tokens import SALT, OfferLinkInvalid, offer_from_token, offer_token
from tests.conftest import SIGNER
from tests.factories import ContractFactory, OfferFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer(now: dt.datetime) -> ConversionOffer:
    return OfferFactory()


def _tampered(token: str) -> str:
    """The same link with one character of the signature changed."""
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def _other_payload(token: str, payload: str) -> str:
    """The link with its payload part swapped, keeping the original signature."""
    _, rest = token.split(":", 1)
    return f"{payload}:{rest}"


# --- The token itself -------------------------------------------------------------------------
def test_a_link_names_its_offer(offer):
    assert offer_from_token(offer_token(offer)) == offer


def test_links_of_two_offers_differ(offer):
    assert offer_token(offer) != offer_token(OfferFactory())


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda o: _tampered(offer_token(o)), id="tampered-signature"),
        pytest.param(lambda o: offer_token(o)[:-6], id="truncated"),
        pytest.param(lambda o: offer_token(o)[:12], id="cut-short-in-the-payload"),
        pytest.param(lambda o: "not-a-token", id="garbage"),
        pytest.param(lambda o: "", id="empty"),
        pytest.param(
            lambda o: _other_payload(
                offer_token(o),
                signing.b64_encode(f'[{o.pk + 1},"{o.nonce}","offer"]'.encode()).decode(),
            ),
            id="payload-changed-to-another-id",
        ),
        pytest.param(
            lambda o: signing.dumps([o.pk, o.nonce, "offer"], salt="some.other.salt"),
            id="other-salt",
        ),
        pytest.param(
            lambda o: signing.dumps([o.pk, o.nonce, "offer"], salt=SALT, key="x" * 50),
            id="other-key",
        ),
    ],
)
def test_a_forged_or_damaged_link_is_invalid(offer, make_token):
    with pytest.raises(OfferLinkInvalid):
        offer_from_token(make_token(offer))


def test_a_signed_link_with_another_offers_nonce_is_invalid(offer):
    other = OfferFactory()
    # Properly signed (as if the key had leaked with one link): the nonce still does not match.
    token = signing.dumps([offer.pk, other.nonce, "offer"], salt=SALT, compress=False)

    with pytest.raises(OfferLinkInvalid):
        offer_from_token(token)


def test_a_signed_link_to_an_offer_that_does_not_exist_is_invalid(offer):
    token = signing.dumps([offer.pk + 1000, offer.nonce, "offer"], salt=SALT)

    with pytest.raises(OfferLinkInvalid):
        offer_from_token(token)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(lambda o: [o.pk], id="no-nonce"),
        pytest.param(lambda o: [o.pk, o.nonce], id="no-purpose"),
        pytest.param(lambda o: [o.pk, o.nonce, "offer", "extra"], id="extra-item"),
        pytest.param(lambda o: [o.pk, o.nonce, "admin"], id="unknown-purpose"),
        pytest.param(lambda o: [str(o.pk), o.nonce, "offer"], id="id-as-text"),
        pytest.param(lambda o: [o.pk, 12345, "offer"], id="nonce-as-number"),
        pytest.param(lambda o: {"id": o.pk, "nonce": o.nonce}, id="object"),
        pytest.param(lambda o: o.pk, id="bare-id"),
    ],
)
def test_a_signed_link_of_the_wrong_shape_is_invalid(offer, payload):
    with pytest.raises(OfferLinkInvalid):
        offer_from_token(signing.dumps(payload(offer), salt=SALT))


def test_a_link_is_good_only_for_what_it_was_made_for(offer):
    assert offer_from_token(offer_token(offer, "unsubscribe"), "unsubscribe") == offer
    with pytest.raises(OfferLinkInvalid):
        offer_from_token(offer_token(offer, "unsubscribe"))  # as an offer link
    with pytest.raises(OfferLinkInvalid):
        offer_from_token(offer_token(offer), "unsubscribe")


def test_changing_an_offers_nonce_voids_the_links_already_sent(offer):
    token = offer_token(offer)
    ConversionOffer.objects.filter(pk=offer.pk).update(nonce="rotated-nonce")

    with pytest.raises(OfferLinkInvalid):
        offer_from_token(token)


# --- What the pages answer --------------------------------------------------------------------
def _urls(token: str, unsubscribe_token: str | None = None) -> dict[str, str]:
    unsubscribe_token = unsubscribe_token or token
    return {
        "page": reverse("offers:offer", args=[token]),
        "terms": reverse("offers:offer_terms", args=[token]),
        "accept": reverse("offers:offer_accept", args=[token]),
        "decline": reverse("offers:offer_decline", args=[token]),
        "unsubscribe": reverse("offers:unsubscribe", args=[unsubscribe_token]),
    }


def _snapshot(offer: ConversionOffer) -> tuple[Any, ...]:
    offer.refresh_from_db()
    offer.client.refresh_from_db()
    return (
        offer.status,
        offer.responded_at,
        offer.accepted_ip,
        offer.client.offers_opt_out,
        ServiceContract.objects.count(),
    )


@pytest.mark.parametrize("make_token", [_tampered, lambda t: t[:-6], lambda t: t + "x"])
def test_every_page_answers_404_to_a_damaged_link_and_changes_nothing(
    offer, anon_client: HttpClient, make_token
):
    before = _snapshot(offer)
    urls = _urls(make_token(offer_token(offer)), make_token(offer_token(offer, "unsubscribe")))

    responses = [
        anon_client.get(urls["page"]),
        anon_client.get(urls["terms"]),
        anon_client.post(urls["accept"]),
        anon_client.post(urls["decline"]),
        anon_client.get(urls["unsubscribe"]),
        anon_client.post(urls["unsubscribe"]),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert all("This link is not valid" in r.content.decode() for r in responses)
    assert _snapshot(offer) == before


def test_the_unsubscribe_link_can_neither_show_accept_nor_decline_the_offer(offer, anon_client):
    # Mailbox providers see (and may POST to) the List-Unsubscribe URL: it must never be able
    # to start a contract.
    before = _snapshot(offer)
    urls = _urls(offer_token(offer, "unsubscribe"))

    responses = [
        anon_client.get(urls["page"]),
        anon_client.get(urls["terms"]),
        anon_client.post(urls["accept"]),
        anon_client.post(urls["decline"]),
    ]

    assert [r.status_code for r in responses] == [404] * 4
    assert _snapshot(offer) == before


def test_the_offer_link_cannot_unsubscribe(offer, anon_client):
    before = _snapshot(offer)
    url = reverse("offers:unsubscribe", args=[offer_token(offer)])

    responses = [anon_client.get(url), anon_client.post(url)]

    assert [r.status_code for r in responses] == [404] * 2
    assert _snapshot(offer) == before


def test_a_link_carrying_another_offers_nonce_answers_404(offer, anon_client):
    token = signing.dumps([offer.pk, OfferFactory().nonce, "offer"], salt=SALT, compress=False)

    response = anon_client.post(_urls(token)["accept"])

    assert response.status_code == 404
    assert not ServiceContract.objects.exists()


def test_replaying_an_accepted_link_makes_no_second_contract(offer, anon_client):
    contract = offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="first")
    before = _snapshot(offer)
    urls = _urls(offer_token(offer))

    page = anon_client.get(urls["page"])
    again = anon_client.post(urls["accept"], SIGNER | {"agree": "on"})
    decline = anon_client.post(urls["decline"])

    # The accept sent again (a double click, a retry after a lost answer) gets the first
    # answer, the welcome page of the same contract; the page and a decline say it is closed.
    assert [page.status_code, again.status_code, decline.status_code] == [409, 200, 409]
    assert "You accepted this offer" in page.content.decode()
    assert "Welcome aboard" in again.content.decode()
    assert again.context["contract"] == contract
    assert _snapshot(offer) == before
    assert ServiceContract.objects.count() == 1


def test_replaying_a_declined_link_answers_409_and_accepts_nothing(offer, anon_client):
    urls = _urls(offer_token(offer))
    assert anon_client.post(urls["decline"]).status_code == 200
    before = _snapshot(offer)

    page = anon_client.get(urls["page"])
    accept = anon_client.post(urls["accept"])

    assert [page.status_code, accept.status_code] == [409, 409]
    assert "You declined this offer" in accept.content.decode()
    assert _snapshot(offer) == before
    assert offer.status == OfferStatus.DECLINED


def test_a_link_of_a_client_that_got_a_contract_meanwhile_answers_409(offer, anon_client):
    ContractFactory(client=offer.client)

    response = anon_client.post(
        _urls(offer_token(offer))["accept"],
        {"signer_name": "Dana Whitfield", "signer_role": "Office manager", "agree": "on"},
    )

    assert response.status_code == 409
    assert "already have a service contract" in response.content.decode()
    assert ServiceContract.objects.count() == 1


def test_a_link_past_the_offers_expiry_answers_410(offer, anon_client, time_machine):
    urls = _urls(offer_token(offer))
    assert anon_client.get(urls["page"]).status_code == 200

    # A second after the offer's time is up (nobody has swept it to "expired" yet).
    time_machine.move_to(offer.expires_at + dt.timedelta(seconds=1), tick=False)
    page = anon_client.get(urls["page"])
    accept = anon_client.post(urls["accept"])
    decline = anon_client.post(urls["decline"])

    assert [page.status_code, accept.status_code, decline.status_code] == [410, 410, 410]
    assert "This offer has expired" in page.content.decode()
    assert not ServiceContract.objects.exists()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT
    assert offer.responded_at is None


@pytest.mark.parametrize(
    ("status", "code", "says"),
    [
        (OfferStatus.EXPIRED, 410, "This offer has expired"),
        (OfferStatus.WITHDRAWN, 410, "This offer was withdrawn"),
    ],
)
def test_a_link_to_a_closed_offer_answers_410(offer, anon_client, status, code, says):
    ConversionOffer.objects.filter(pk=offer.pk).update(status=status)
    urls = _urls(offer_token(offer))

    page = anon_client.get(urls["page"])
    accept = anon_client.post(urls["accept"])

    assert (page.status_code, accept.status_code) == (code, code)
    assert says in page.content.decode()
    assert says in accept.content.decode()
    assert not ServiceContract.objects.exists()
