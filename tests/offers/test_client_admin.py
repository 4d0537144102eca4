"""The client page's opt-out of offers: it withdraws the open offer and is written to history."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clients.models import ClientEventKind
from offers.models import OfferStatus
from tests.admin_helpers import client_page_form
from tests.factories import ClientFactory, OfferFactory

pytestmark = pytest.mark.django_db


def test_a_manager_opting_a_client_out_withdraws_its_open_offer_and_says_so(manager_client, now):
    offer = OfferFactory(client=ClientFactory(name="Quiet Corp"))
    client = offer.client
    url = reverse("admin:clients_client_change", args=[client.pk])

    response = manager_client.post(url, client_page_form(client, opted_out="on"))

    assert response.status_code == 302
    client.refresh_from_db()
    offer.refresh_from_db()
    assert client.offers_opt_out
    assert offer.status == OfferStatus.WITHDRAWN
    (event,) = client.events.all()
    assert (event.kind, event.summary, event.by.username) == (
        ClientEventKind.OPTED_OUT,
        "Opted out of contract offers",
        "alice",
    )

    # And back in: one more line, nothing else changes.
    client.refresh_from_db()
    data = client_page_form(client)
    data.pop("opted_out")
    manager_client.post(url, data)

    client.refresh_from_db()
    assert not client.offers_opt_out
    assert [e.kind for e in client.events.order_by("pk")] == [
        ClientEventKind.OPTED_OUT,
        ClientEventKind.OPTED_IN,
    ]


def test_saving_a_client_without_touching_the_opt_out_writes_no_history(manager_client):
    client = ClientFactory(offers_opt_out=True)
    url = reverse("admin:clients_client_change", args=[client.pk])

    manager_client.post(url, client_page_form(client, notes="Prefers phone calls"))

    client.refresh_from_db()
    assert client.notes == "Prefers phone calls"
    assert client.offers_opt_out
    assert not client.events.exists()


def test_a_consultant_saving_an_opted_out_clients_page_leaves_the_opt_out_alone(
    consultant_client,
):
    client = ClientFactory(offers_opt_out=True, notes="")
    url = reverse("admin:clients_client_change", args=[client.pk])
    page = consultant_client.get(url)
    assert "opted_out" not in page.context["adminform"].form.fields

    data = client_page_form(client, notes="Rang about the printer")
    data.pop("opted_out")  # the consultant's page has no such box
    response = consultant_client.post(url, data)

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.notes == "Rang about the printer"
    assert client.offers_opt_out
    assert not client.events.exists()


def test_a_consultant_cannot_opt_a_client_in_by_posting_the_box_anyway(consultant_client):
    client = ClientFactory(offers_opt_out=False)
    url = reverse("admin:clients_client_change", args=[client.pk])

    consultant_client.post(url, client_page_form(client, opted_out="on"))

    client.refresh_from_db()
    assert not client.offers_opt_out
    assert not client.events.exists()
