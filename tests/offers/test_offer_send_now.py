"""Sending one client an offer now (a manager's decision), and the clients it is refused for."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from clients.models import Client, ClientStatus
from offers.models import ConversionOffer, OfferStatus
from offers.services import OfferError, offer_send_now
from tests.conftest import DAY, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
)
from tests.offers.campaign_helpers import recipients

pytestmark = pytest.mark.django_db


# --- offer_send_now (a manager's decision) ----------------------------------------------------
def test_sending_an_offer_now_ignores_the_threshold_and_the_cooldown(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks
):
    client = OfferableClientFactory()  # spent nothing, raised no ticket
    OfferFactory(client=client, status=OfferStatus.DECLINED, created_at=NOW - 10 * DAY)

    with django_capture_on_commit_callbacks(execute=True):
        offer = offer_send_now(client=client, now=NOW)

    offer.refresh_from_db()
    assert offer.client == client
    assert offer.campaign_run is None
    assert offer.plan == basic
    assert offer.trailing_spend == Decimal("0.00")
    assert offer.status == OfferStatus.SENT
    assert recipients(mailoutbox) == [client.contacts.get().email]


def _contract_client() -> Client:
    client = OfferableClientFactory()
    ContractFactory(client=client)
    return client


def _opted_out_client() -> Client:
    return OfferableClientFactory(offers_opt_out=True)


def _client_with_open_offer() -> Client:
    client = OfferableClientFactory()
    OfferFactory(client=client)
    return client


def _dropped_client() -> Client:
    return OfferableClientFactory(status=ClientStatus.DROPPED, dropped_at=NOW - DAY)


def _client_without_primary_contact() -> Client:
    client = ClientFactory()
    ContactFactory(client=client, is_primary=False)
    return client


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_contract_client, "it already holds a service contract."),
        (_opted_out_client, "it asked not to receive offers (opted out)."),
        (_client_with_open_offer, "it has an open offer already, until 31 March 2025."),
        (_dropped_client, "it has been dropped; reinstate it first."),
        (_client_without_primary_contact, "it has no primary contact to send the offer to"),
    ],
    ids=lambda f: f.__name__.strip("_") if callable(f) else "",
)
def test_sending_an_offer_now_refuses_clients_who_must_not_get_one_and_says_why(
    now, rules, basic, mailoutbox, django_capture_on_commit_callbacks, make, reason
):
    client = make()
    before = ConversionOffer.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(OfferError, match=re.escape(f"cannot be offered a contract: {reason}")),
    ):
        offer_send_now(client=client, now=NOW)

    assert ConversionOffer.objects.count() == before
    assert callbacks == []
    assert mailoutbox == []


def test_sending_an_offer_now_without_an_offered_plan_is_refused(now, rules):
    PlanFactory(is_offered=False)

    with pytest.raises(OfferError, match="No plan is offered"):
        offer_send_now(client=OfferableClientFactory(), now=NOW)

    assert not ConversionOffer.objects.exists()
