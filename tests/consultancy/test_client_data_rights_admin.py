"""The client page's "Export data (JSON)" and "Erase personal data…": managers only, every
change a POST, the confirmation saying what goes and what stays."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import Client, ClientEvent, ClientEventKind
from tests.consultancy.client_data import client_with_a_past, erasable_rows
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbor(time_machine: Any, manager: User, consultant: User, rate_card: Any) -> Any:
    return client_with_a_past(time_machine, manager=manager, consultant=consultant, label="Harbor")


def _urls(client: Client) -> tuple[str, str, str]:
    return (
        reverse("admin:clients_client_change", args=[client.pk]),
        reverse("admin:clients_client_export", args=[client.pk]),
        reverse("admin:clients_client_erase", args=[client.pk]),
    )


def _events(client: Client) -> list[str]:
    return list(ClientEvent.objects.filter(client=client).values_list("kind", flat=True))


def test_a_manager_sees_both_tools_on_the_client_page(
    harbor: Any, manager_client: HttpClient
) -> None:
    change, export, erase = _urls(harbor.client)

    page = manager_client.get(change).content.decode()

    assert f'action="{export}"' in page
    assert "Export data (JSON)" in page
    assert f'href="{erase}"' in page


def test_a_consultant_sees_neither_tool(harbor: Any, consultant_client: HttpClient) -> None:
    change, export, erase = _urls(harbor.client)

    page = consultant_client.get(change).content.decode()

    assert export not in page
    assert erase not in page


def test_a_manager_downloads_the_export_and_it_is_written_in_the_history(
    harbor: Any, manager_client: HttpClient
) -> None:
    _, export, _ = _urls(harbor.client)

    response = manager_client.post(export)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="client-{harbor.client.pk}-2025-03-10.json"'
    )
    document = json.loads(response.content)
    assert document["client"]["name"] == "Harbor Dental LLC"
    assert _events(harbor.client)[0] == ClientEventKind.CLIENT_EXPORTED


def test_getting_the_export_is_refused_and_records_nothing(
    harbor: Any, manager_client: HttpClient
) -> None:
    _, export, _ = _urls(harbor.client)
    before = _events(harbor.client)

    assert manager_client.get(export).status_code == 405
    assert _events(harbor.client) == before


def test_the_confirmation_says_what_goes_and_what_stays_and_changes_nothing(
    harbor: Any, manager_client: HttpClient
) -> None:
    _, _, erase = _urls(harbor.client)
    before = erasable_rows(harbor.client)

    response = manager_client.get(erase)

    page = response.content.decode()
    assert response.status_code == 200
    assert "cannot be undone" in page
    assert "Replaced for good" in page
    assert "Kept as they are" in page
    assert "Issued invoices and credit notes, exactly as issued" in page
    assert 'name="confirm_name"' in page
    assert 'name="reason"' in page
    assert erasable_rows(harbor.client) == before


def test_a_manager_erases_with_the_name_and_a_reason(
    harbor: Any, manager_client: HttpClient
) -> None:
    change, _, erase = _urls(harbor.client)

    response = manager_client.post(
        erase, {"confirm_name": " harbor dental llc ", "reason": "Request of 3 March"}
    )

    assert response.status_code == 302
    assert response["Location"] == change
    harbor.client.refresh_from_db()
    assert harbor.client.is_erased
    assert harbor.client.name == f"Erased client {harbor.client.pk}"
    assert _events(harbor.client)[0] == ClientEventKind.CLIENT_ERASED


@pytest.mark.parametrize(
    "form",
    [
        {"confirm_name": "Harbour Dental LLC", "reason": "Request"},
        {"confirm_name": "Harbor Dental LLC", "reason": "   "},
        {"confirm_name": "Harbor Dental LLC"},
        {},
    ],
    ids=["wrong name", "blank reason", "no reason", "nothing"],
)
def test_a_wrong_confirmation_erases_nothing(
    harbor: Any, manager_client: HttpClient, form: dict[str, str]
) -> None:
    _, _, erase = _urls(harbor.client)
    before = erasable_rows(harbor.client)

    response = manager_client.post(erase, form)

    assert response.status_code == 400
    assert erasable_rows(harbor.client) == before


def test_erasing_an_erased_client_says_so(harbor: Any, manager_client: HttpClient) -> None:
    _, _, erase = _urls(harbor.client)
    manager_client.post(erase, {"confirm_name": "Harbor Dental LLC", "reason": "Request"})
    harbor.client.refresh_from_db()
    rows = erasable_rows(harbor.client)

    page = manager_client.get(erase).content.decode()
    again = manager_client.post(
        erase, {"confirm_name": harbor.client.name, "reason": "Request again"}
    )

    assert "was already erased on 2025-03-10" in page
    assert again.status_code == 400
    assert "already erased" in again.content.decode()
    assert erasable_rows(harbor.client) == rows
    assert _events(harbor.client).count(ClientEventKind.CLIENT_ERASED) == 1


def test_a_client_still_served_is_refused_with_the_reasons(manager_client: HttpClient) -> None:
    client = ClientFactory(name="Quay Opticians")
    _, _, erase = _urls(client)

    page = manager_client.get(erase).content.decode()
    response = manager_client.post(erase, {"confirm_name": "Quay Opticians", "reason": "Request"})

    assert "Drop the client first" in page
    assert 'name="confirm_name"' not in page
    assert response.status_code == 400
    client.refresh_from_db()
    assert client.name == "Quay Opticians"
    assert _events(client) == []


def test_a_consultant_may_neither_export_nor_erase(
    harbor: Any, consultant_client: HttpClient
) -> None:
    _, export, erase = _urls(harbor.client)
    before = erasable_rows(harbor.client)

    assert consultant_client.post(export).status_code == 403
    assert consultant_client.get(erase).status_code == 403
    form = {"confirm_name": "Harbor Dental LLC", "reason": "Request"}
    assert consultant_client.post(erase, form).status_code == 403
    assert erasable_rows(harbor.client) == before


def test_an_anonymous_visitor_is_sent_to_log_in(harbor: Any, anon_client: HttpClient) -> None:
    _, export, erase = _urls(harbor.client)
    before = erasable_rows(harbor.client)

    for response in (
        anon_client.post(export),
        anon_client.get(erase),
        anon_client.post(erase, {"confirm_name": "Harbor Dental LLC", "reason": "Request"}),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert erasable_rows(harbor.client) == before


def test_an_unknown_client_is_not_found(manager_client: HttpClient) -> None:
    assert manager_client.post("/admin/clients/client/999999/export/").status_code == 404
    assert manager_client.get("/admin/clients/client/999999/erase/").status_code == 404
