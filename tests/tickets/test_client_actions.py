"""The manager's actions on the client page: each a confirmation page, then a POST through the
service the admin and the insights use. Consultants are refused; a refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.models import ClientEvent, ClientEventKind, ClientStatus
from clients.services import client_drop
from contracts.models import ContractStatus, ServiceContract
from offers.models import ConversionOffer, OfferSource, OfferStatus
from tests.consultancy.test_access_walk import snapshot
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db


def url(action: str, client_id: int) -> str:
    return reverse(f"tickets:client_{action}", args=[client_id])


def said(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def contract(now):
    return ContractFactory(starts_on=dt.date(2025, 1, 1), client=ContactFactory().client)


@pytest.mark.parametrize("action", ["offer", "renew", "cancel", "reinstate", "drop"])
def test_a_consultant_is_refused_every_action_and_nothing_changes(
    consultant_client, contract, action
):
    before = snapshot()

    page = consultant_client.get(url(action, contract.client_id))
    posted = consultant_client.post(
        url(action, contract.client_id),
        {"contract": contract.pk, "client": contract.client_id, "reason": "x", "confirm": "on"},
    )

    assert page.status_code == posted.status_code == 403
    assert snapshot() == before


CLIENT_PAGES = [
    ("clients", ()),
    ("client", ("client",)),
    ("client_csv", ("client", "money")),
    *(
        (f"client_{action}", ("client",))
        for action in ("offer", "renew", "cancel", "reinstate", "drop")
    ),
]


@pytest.mark.parametrize(("name", "args"), CLIENT_PAGES, ids=[n for n, _ in CLIENT_PAGES])
def test_staff_without_a_role_are_refused_every_client_page(client, roleless, contract, name, args):
    client.force_login(roleless)
    path = reverse(
        f"tickets:{name}", args=[contract.client_id if a == "client" else a for a in args]
    )
    before = snapshot()

    assert client.get(path).status_code == 403
    assert client.post(path, {"confirm": "on", "contract": contract.pk}).status_code in (403, 405)
    assert snapshot() == before


def test_renewing_asks_for_a_confirmation_then_books_the_next_term(manager_client, contract):
    page = manager_client.get(url("renew", contract.client_id))
    unconfirmed = manager_client.post(url("renew", contract.client_id), {"contract": contract.pk})
    done = manager_client.post(
        url("renew", contract.client_id), {"contract": contract.pk, "confirm": "on"}
    )

    assert (
        "the next 12-month term, from 1 Jan 2026, is booked now at $500.00 a month"
        in page.content.decode()
    )
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm the renewal." in unconfirmed.content.decode()
    assert done.status_code == 302
    assert done["Location"] == reverse("tickets:client", args=[contract.client_id])
    renewed = ServiceContract.objects.get(client=contract.client, status=ContractStatus.ACTIVE)
    assert (renewed.starts_on, renewed.ends_on) == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert said(done) == [
        f"Renewed {contract.client}'s {contract.plan} contract from 1 Jan 2026 to 31 Dec 2026 at $500.00 a month."
    ]


def test_cancelling_needs_a_reason_and_leaves_the_client_transactional(
    manager_client, manager, contract
):
    page = manager_client.get(url("cancel", contract.client_id))
    no_reason = manager_client.post(
        url("cancel", contract.client_id), {"contract": contract.pk, "confirm": "on"}
    )
    done = manager_client.post(
        url("cancel", contract.client_id),
        {"contract": contract.pk, "reason": "Moving away", "confirm": "on"},
    )

    assert "stops today" in page.content.decode()
    assert no_reason.status_code == 422
    assert done.status_code == 302
    contract.refresh_from_db()
    assert (contract.status, contract.end_reason) == (ContractStatus.CANCELLED, "Moving away")
    event = ClientEvent.objects.get(client=contract.client, kind=ClientEventKind.CONTRACT_CANCELLED)
    assert event.by == manager
    assert manager_client.get(url("renew", contract.client_id)).status_code == 302  # none left


def test_a_form_for_another_contract_changes_nothing(manager_client, contract):
    other = ContractFactory()
    before = snapshot()

    response = manager_client.post(
        url("renew", contract.client_id), {"contract": other.pk, "confirm": "on"}
    )

    assert response.status_code == 422
    assert "That form was for another client or contract" in response.content.decode()
    assert snapshot() == before


def test_dropping_a_transactional_client_withdraws_its_offer(manager_client, manager, now):
    client = ContactFactory().client
    offer = OfferFactory(client=client)

    done = manager_client.post(
        url("drop", client.pk), {"client": client.pk, "reason": "Never converted", "confirm": "on"}
    )

    client.refresh_from_db()
    offer.refresh_from_db()
    assert done.status_code == 302
    assert (client.status, client.drop_reason) == (ClientStatus.DROPPED, "Never converted")
    assert offer.status == OfferStatus.WITHDRAWN
    assert said(done) == [
        f"Dropped {client}: no more offers, and a new ticket needs a manager's override."
    ]


def test_a_client_on_contract_cannot_be_dropped_or_offered(manager_client, contract):
    before = snapshot()

    for action in ("drop", "offer", "reinstate"):
        response = manager_client.post(
            url(action, contract.client_id),
            {"client": contract.client_id, "reason": "x", "confirm": "on"},
        )
        assert response.status_code == 302
        assert said(response)[0].startswith("Nothing was changed.")
    assert snapshot() == before


def test_reinstating_a_dropped_client(manager_client, manager, now):
    client = client_drop(client=ClientFactory(), reason="Left", by=manager)

    page = manager_client.get(url("reinstate", client.pk))
    done = manager_client.post(url("reinstate", client.pk), {"client": client.pk, "confirm": "on"})

    client.refresh_from_db()
    assert "was dropped on 10 Mar 2025 (Left)" in page.content.decode()
    assert done.status_code == 302
    assert client.status == ClientStatus.ACTIVE


def test_sending_an_offer_now_makes_a_manual_offer(manager_client, manager, now):
    PlanFactory()  # an offered plan with terms
    client = ContactFactory().client
    ChargeFactory(client=client)

    page = manager_client.get(url("offer", client.pk))
    done = manager_client.post(url("offer", client.pk), {"confirm": "on"})

    assert "What a campaign would say today:" in page.content.decode()
    offer = ConversionOffer.objects.get(client=client)
    assert (offer.source, offer.status) == (OfferSource.MANUAL, OfferStatus.PENDING)
    assert ClientEvent.objects.filter(
        client=client, kind=ClientEventKind.OFFER_MADE, by=manager
    ).exists()
    assert said(done)[0].startswith(f"Offered {client} the {offer.plan} plan at ")


def test_an_offer_the_service_refuses_is_said_and_changes_nothing(manager_client, now):
    PlanFactory()
    client = ClientFactory()  # no primary contact to send it to
    before = snapshot()

    done = manager_client.post(url("offer", client.pk), {"confirm": "on"})

    assert done.status_code == 302
    assert said(done) == [
        f"Nothing was changed. {client} cannot be offered a contract: it has no primary contact "
        "to send the offer to; mark one on its page."
    ]
    assert snapshot() == before
