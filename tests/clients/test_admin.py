"""Client records in the admin: contacts on the client page, and the ledger of charges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from clients.models import Charge, ChargeKind, Client, ClientEventKind, Contact
from clients.services import client_event_record
from tests.factories import ClientFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

CLIENT_ADD = reverse("admin:clients_client_add")
CHARGE_ADD = reverse("admin:clients_charge_add")


def _client_form(contacts: list[dict[str, str]], **fields: str) -> dict[str, str]:
    """The client page's POST: the client's fields and its contact and contract inlines."""
    data = {"name": "Acme Dental", "customer_since": "2025-01-01", "notes": ""}
    data.update(fields)
    for prefix, total in (("contacts", len(contacts)), ("contracts", 0)):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(total),
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    for i, contact in enumerate(contacts):
        data.update({f"contacts-{i}-{key}": value for key, value in contact.items()})
    return data


def _contact(n: int, *, primary: bool) -> dict[str, str]:
    contact = {"name": f"Person {n}", "email": f"person{n}@acme.example", "phone": ""}
    if primary:
        contact["is_primary"] = "on"
    return contact


@pytest.mark.parametrize("persona", ["manager_client", "consultant_client"])
def test_staff_add_a_client_with_its_contacts(request, persona):
    http = request.getfixturevalue(persona)

    response = http.post(
        CLIENT_ADD, _client_form([_contact(1, primary=True), _contact(2, primary=False)])
    )

    assert response.status_code == 302
    client = Client.objects.get(name="Acme Dental")
    assert client.contacts.count() == 2
    assert client.contacts.primary().get().name == "Person 1"


def test_two_primary_contacts_on_the_client_page_is_a_form_error_not_a_crash(manager_client):
    response = manager_client.post(
        CLIENT_ADD, _client_form([_contact(1, primary=True), _contact(2, primary=True)])
    )

    assert response.status_code == 200
    contacts = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.opts.model is Contact
    )
    assert "Only one contact can be the primary contact." in contacts.non_form_errors()
    assert not Client.objects.exists()


def test_a_second_primary_contact_for_an_existing_client_is_a_form_error(manager_client):
    first = ContactFactory(is_primary=True)

    response = manager_client.post(
        reverse("admin:clients_contact_add"),
        {"client": first.client.pk, "name": "Second", "email": "s@x.example", "is_primary": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Contact.objects.filter(client=first.client).count() == 1


def test_adding_a_charge_records_who_billed_it(manager_client, manager):
    client = ClientFactory()

    response = manager_client.post(CHARGE_ADD, _charge_form(client))

    assert response.status_code == 302
    charge = Charge.objects.get(client=client)
    assert charge.created_by == manager
    assert charge.amount == Decimal("250.00")


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_a_charge_of_nothing_or_less_is_a_form_error(manager_client, amount):
    client = ClientFactory()

    response = manager_client.post(CHARGE_ADD, _charge_form(client, amount=amount))

    assert response.status_code == 200
    assert "amount" in response.context["adminform"].form.errors
    assert not Charge.objects.exists()


def test_consultant_reads_charges_but_cannot_bill_them(consultant_client):
    client = ClientFactory()

    assert consultant_client.get(reverse("admin:clients_charge_changelist")).status_code == 200
    response = consultant_client.post(CHARGE_ADD, _charge_form(client))

    assert response.status_code == 403
    assert not Charge.objects.exists()


def test_anonymous_visitor_cannot_add_a_client(anon_client):
    response = anon_client.post(CLIENT_ADD, _client_form([]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Client.objects.exists()


def _charge_form(client: Client, **overrides: Any) -> dict[str, Any]:
    data = {
        "client": client.pk,
        "kind": ChargeKind.LABOUR,
        "amount": "250.00",
        "description": "Two hours on site",
        "occurred_at_0": "2025-03-10",
        "occurred_at_1": "10:00:00",
    }
    data.update(overrides)
    return data


def test_the_history_log_names_staff_as_the_workspace_does(manager_client):
    casey = UserFactory(username="casey", first_name="Casey", last_name="Nguyen")
    client_event_record(
        client=ClientFactory(), kind=ClientEventKind.OPTED_IN, summary="Back in", by=casey
    )

    page = manager_client.get(reverse("admin:clients_clientevent_changelist")).content.decode()

    assert '<td class="field-by_name">Casey Nguyen</td>' in page


def test_a_charge_reads_as_money(db):
    charge = Charge(client_id=7, kind=ChargeKind.LABOUR, amount=Decimal("1250"))

    assert str(charge) == "Labour $1,250.00 for client 7"
