"""Every client name in the workspace opens the client's page: the queue's rows, a ticket's page,
the new-ticket form (tests/tickets/test_views_new_ticket.py) and the insights' tables. And the
queue narrowed to one client, where the client page sends for the rest of its line."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from clients.services import client_drop
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContractFactory,
    ContractTicketFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


def link(client_id: int, name: str) -> str:
    return f'href="/clients/{client_id}/">{name}</a>'


def test_each_queue_row_links_its_client(consultant_client, now):
    ticket = TicketFactory(client=ClientFactory(name="Harbor Dental"))

    html = consultant_client.get(reverse("tickets:queue")).content.decode()

    assert link(ticket.client_id, "Harbor Dental") in html


def test_the_queue_narrowed_to_one_client_keeps_it_through_filters_and_pages(
    consultant_client, now
):
    harbor = ClientFactory(name="Harbor Dental")
    mine = [TicketFactory(client=harbor, opened_at=NOW - n * HOUR) for n in range(3)]
    TicketFactory(client=ClientFactory(name="Lakeside Vets"))

    page = consultant_client.get(
        reverse("tickets:queue"), {"client": harbor.pk, "priority": "normal"}
    )
    fragment = consultant_client.get(
        reverse("tickets:queue"), {"client": harbor.pk}, HTTP_HX_REQUEST="true"
    )

    html = page.content.decode()
    assert f'Only the tickets of <a href="/clients/{harbor.pk}/">Harbor Dental</a>' in html
    assert f'<input type="hidden" name="client" value="{harbor.pk}"' in html
    assert "Lakeside Vets" not in html
    assert all(f'href="/tickets/{t.pk}/"' in html for t in mine)
    # The live refresh asks for the same client's tickets.
    assert f"client={harbor.pk}" in fragment.content.decode()
    assert "Lakeside Vets" not in fragment.content.decode()


def test_a_broken_client_link_in_the_queue_is_ignored_and_said(consultant_client, now):
    TicketFactory(client=ClientFactory(name="Lakeside Vets"))

    response = consultant_client.get(reverse("tickets:queue"), {"client": "²"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "That client link is broken." in html
    assert "Lakeside Vets" in html


def test_a_ticket_page_links_its_client(consultant_client, now):
    ticket = TicketFactory(client=ClientFactory(name="Harbor Dental"))

    html = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert f'<a href="/clients/{ticket.client_id}/" id="ticket-client">Harbor Dental</a>' in html


def test_the_insights_renewals_and_drop_candidates_link_their_clients(manager_client, manager, now):
    contract = ContractFactory(
        client=ClientFactory(name="Harbor Dental"),
        starts_on=dt.date(2024, 4, 1),
        ends_on=dt.date(2025, 3, 31),
    )
    dropped = client_drop(client=ClientFactory(name="Gone Ltd"), reason="Left", by=manager)

    renewals = manager_client.get(reverse("insights:renewals")).content.decode()
    confirm = manager_client.get(reverse("insights:renewal_confirm", args=[contract.pk]))
    drops = manager_client.get(reverse("insights:drops")).content.decode()

    assert link(contract.client_id, "Harbor Dental") in renewals
    assert link(contract.client_id, "Harbor Dental") in confirm.content.decode()
    assert link(dropped.pk, "Gone Ltd") in drops


def test_the_missed_promises_link_their_clients(manager_client, now):
    # Opened two days ago with a 4-hour response target, and never answered.
    contract = ContractFactory(client=ClientFactory(name="Harbor Dental"))
    late = ContractTicketFactory(contract=contract, opened_at=NOW - 2 * DAY)

    html = manager_client.get(
        reverse("insights:missed"), {"days": 30, "target": "response"}
    ).content.decode()

    assert link(late.client_id, "Harbor Dental") in html
