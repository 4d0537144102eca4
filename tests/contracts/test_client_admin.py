"""Clients in the admin: finding them, the list and page, dropping and reinstating, the history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client, ClientEvent, ClientEventKind, ClientStatus
from clients.services import client_drop, client_event_record
from contracts.models import ServiceContract
from tests.admin_helpers import admin_messages, changelist_rows, client_page_form
from tests.conftest import NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CLIENTS = reverse("admin:clients_client_changelist")


# --- Finding clients --------------------------------------------------------------------------
def test_clients_can_be_found_by_name_or_contact_email(manager_client):
    acme = ClientFactory(name="Acme Dental")
    bluebird = ClientFactory(name="Bluebird Bakery")
    ContactFactory(client=bluebird, email="owner@bluebird.example")
    ContactFactory(client=bluebird, email="front@bluebird.example", is_primary=False)

    assert [c.pk for c in changelist_rows(manager_client.get(CLIENTS, {"q": "acme"}))] == [acme.pk]
    by_email = changelist_rows(manager_client.get(CLIENTS, {"q": "bluebird.example"}))
    assert [c.pk for c in by_email] == [bluebird.pk]


@pytest.mark.parametrize(
    ("service", "expected"), [("contract", {"Acme Dental"}), ("transactional", {"Bluebird"})]
)
def test_clients_can_be_filtered_by_contract_or_transactional(manager_client, service, expected):
    ContractFactory(client=ClientFactory(name="Acme Dental"))
    EndedContractFactory(client=ClientFactory(name="Bluebird"))

    response = manager_client.get(CLIENTS, {"service": service})

    assert {c.name for c in changelist_rows(response)} == expected


# --- The client pages -------------------------------------------------------------------------
def test_client_list_shows_the_plan_and_trailing_spend(manager_client, now):
    client = ClientFactory(name="Acme Dental")
    ContractFactory(client=client, plan=PlanFactory(name="Gold"))
    ChargeFactory(client=client, amount=Decimal("1234.50"), occurred_at=NOW - dt.timedelta(days=9))
    ChargeFactory(client=client, amount=Decimal("999.00"), occurred_at=NOW - dt.timedelta(days=400))
    ClientFactory(name="Bluebird Bakery")

    content = manager_client.get(CLIENTS).content.decode()

    assert "Gold" in content
    assert "$1,234.50" in content
    assert "Transactional" in content
    assert "$0.00" in content


def test_client_page_shows_trailing_spend_and_its_contracts(manager_client, now):
    client = ClientFactory(name="Acme Dental")
    ChargeFactory(client=client, amount=Decimal("1234.50"), occurred_at=NOW - dt.timedelta(days=9))
    ChargeFactory(client=client, amount=Decimal("999.00"), occurred_at=NOW - dt.timedelta(days=400))
    EndedContractFactory(client=client, plan=PlanFactory(name="Bronze"))
    ContractFactory(client=client, plan=PlanFactory(name="Gold"))

    response = manager_client.get(reverse("admin:clients_client_change", args=[client.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "$1,234.50" in content
    contract_inline = next(
        f for f in response.context["inline_admin_formsets"] if f.opts.model is ServiceContract
    )
    assert {form.original.plan.name for form in contract_inline} == {"Gold", "Bronze"}
    assert "Gold" in content
    assert "Bronze" in content


def test_manager_can_open_the_add_client_page(manager_client):
    assert manager_client.get(reverse("admin:clients_client_add")).status_code == 200


# --- Dropping and reinstating clients ---------------------------------------------------------
def test_drop_action_asks_for_a_reason_first(manager_client):
    client = ClientFactory(name="Quiet Corp")

    response = manager_client.post(
        CLIENTS, {"action": "drop_clients", ACTION_CHECKBOX_NAME: [client.pk]}
    )

    assert response.status_code == 200
    assert "Quiet Corp" in response.content.decode()
    client.refresh_from_db()
    assert client.status == ClientStatus.ACTIVE


def test_drop_confirmation_warns_up_front_about_clients_on_contract(manager_client):
    on_contract = ContractFactory(client=ClientFactory(name="Acme Dental")).client
    quiet = ClientFactory(name="Quiet Corp")

    response = manager_client.post(
        CLIENTS, {"action": "drop_clients", ACTION_CHECKBOX_NAME: [on_contract.pk, quiet.pk]}
    )

    content = response.content.decode()
    assert content.count("holds an active contract and will not be dropped") == 1
    acme = content.index("Acme Dental")
    assert content.index("holds an active contract") > acme
    assert content.index("holds an active contract") < content.index("Quiet Corp", acme)


def test_drop_action_refuses_clients_with_an_active_contract(manager_client, now):
    on_contract = ContractFactory(client=ClientFactory(name="Acme Dental")).client
    transactional = ClientFactory(name="Quiet Corp")

    response = manager_client.post(
        CLIENTS,
        {
            "action": "drop_clients",
            ACTION_CHECKBOX_NAME: [on_contract.pk, transactional.pk],
            "confirm": "yes",
            "reason": "Never converted",
        },
        follow=True,
    )

    on_contract.refresh_from_db()
    transactional.refresh_from_db()
    assert on_contract.status == ClientStatus.ACTIVE
    assert transactional.status == ClientStatus.DROPPED
    assert transactional.drop_reason == "Never converted"
    # The history says who dropped the client; the refused one has none.
    (event,) = ClientEvent.objects.all()
    assert (event.client, event.kind, event.by.username) == (
        transactional,
        ClientEventKind.DROPPED,
        "alice",
    )
    messages = admin_messages(response)
    assert any("Acme Dental holds an active contract" in m for m in messages)
    assert "Dropped 1 client(s)." in messages


def test_a_drop_reason_is_kept_as_long_as_the_client_keeps_it(manager_client, now):
    client = ClientFactory()
    reason = "Never converted; " + "x" * 483  # 500 characters, what drop_reason holds

    manager_client.post(
        CLIENTS,
        {
            "action": "drop_clients",
            ACTION_CHECKBOX_NAME: [client.pk],
            "confirm": "yes",
            "reason": reason,
        },
    )

    client.refresh_from_db()
    assert client.drop_reason == reason


def test_reinstate_action_brings_dropped_clients_back(manager_client, now):
    dropped = client_drop(client=ClientFactory(), reason="Went quiet")
    active = ClientFactory()

    response = manager_client.post(
        CLIENTS,
        {"action": "reinstate_clients", ACTION_CHECKBOX_NAME: [dropped.pk, active.pk]},
        follow=True,
    )

    dropped.refresh_from_db()
    assert dropped.status == ClientStatus.ACTIVE
    assert "Reinstated 1 client(s)." in admin_messages(response)


# --- The client's history ---------------------------------------------------------------------
def _client_with_history() -> Client:
    client = ClientFactory(name="Quiet Corp")
    client_drop(
        client=client, reason="Never answered three offers", by=UserFactory(username="dana")
    )
    return client


@pytest.mark.parametrize("persona", ["manager_client", "consultant_client"])
def test_staff_read_the_clients_history_on_its_page(request, persona):
    client = _client_with_history()
    http = request.getfixturevalue(persona)

    response = http.get(reverse("admin:clients_client_change", args=[client.pk]))

    assert response.status_code == 200
    content = response.content.decode()
    assert "History" in content
    assert "Dropped: Never answered three offers" in content
    assert "dana" in content


def test_anonymous_visitor_cannot_read_a_clients_history(anon_client):
    client = _client_with_history()

    response = anon_client.get(reverse("admin:clients_client_change", args=[client.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["manager_client", "consultant_client"])
def test_nobody_writes_the_history_by_hand(request, persona):
    event = _client_with_history().events.get()
    http = request.getfixturevalue(persona)
    change = reverse("admin:clients_clientevent_change", args=[event.pk])

    assert http.get(reverse("admin:clients_clientevent_add")).status_code == 403
    assert http.post(change, {"summary": "Rewritten"}).status_code == 403
    assert (
        http.post(reverse("admin:clients_clientevent_delete", args=[event.pk])).status_code == 403
    )
    event.refresh_from_db()
    assert event.summary == "Dropped: Never answered three offers"


def test_saving_a_client_page_leaves_its_history_as_it_was(manager_client):
    client = _client_with_history()
    url = reverse("admin:clients_client_change", args=[client.pk])

    response = manager_client.post(url, client_page_form(client, name="Quiet Corporation"))

    assert response.status_code == 302, response.content.decode()[:2000]
    client.refresh_from_db()
    assert client.name == "Quiet Corporation"
    assert list(client.events.values_list("summary", flat=True)) == [
        "Dropped: Never answered three offers"
    ]


def test_the_client_page_shows_the_newest_history_and_links_to_the_rest(manager_client):
    client = ClientFactory(name="Busy Corp")
    for n in range(25):
        client_event_record(client=client, kind=ClientEventKind.OPTED_IN, summary=f"Line {n:02}")
    url = reverse("admin:clients_client_change", args=[client.pk])

    response = manager_client.get(url)

    content = response.content.decode()
    assert "Line 24" in content
    assert "Line 05" in content
    assert "Line 04" not in content  # the 21st newest and older: behind the link
    assert "Showing the newest 20." in content
    log = reverse("admin:clients_clientevent_changelist") + f"?client__id__exact={client.pk}"
    assert f'href="{log}"' in content
    # The link opens the client's whole history, and only this client's.
    other = ClientFactory()
    client_event_record(client=other, kind=ClientEventKind.OPTED_IN, summary="Someone else")
    rows = changelist_rows(manager_client.get(log))
    assert len(rows) == 25
    assert {row.client_id for row in rows} == {client.pk}


def test_the_client_page_costs_the_same_queries_with_3_or_300_history_lines(manager_client):
    client = ClientFactory()
    url = reverse("admin:clients_client_change", args=[client.pk])
    manager_client.get(url)  # warm the caches
    counts = []
    for lines in (3, 300):
        while client.events.count() < lines:
            client_event_record(client=client, kind=ClientEventKind.OPTED_IN, summary="Line")
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(url).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
