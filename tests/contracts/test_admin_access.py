"""Who may open and change what in the admin, and what each changelist costs in queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import ClientEventKind
from clients.services import client_event_record
from contracts.models import ContractStatus, Holiday, RenewalMode, ServiceContract
from tests.admin_helpers import CONTRACT_ADD, CONTRACTS, changelist_queries, start_form
from tests.factories import (
    CalendarFactory,
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


CHANGELISTS = [
    "clients_client",
    "clients_contact",
    "clients_charge",
    "clients_clientevent",
    "contracts_servicecontract",
    "contracts_contractplan",
    "contracts_businesscalendar",
    "tickets_ticket",
    "tickets_timeentry",
]


# --- Who may see what -------------------------------------------------------------------------
@pytest.mark.parametrize("name", CHANGELISTS)
def test_manager_sees_every_changelist(manager_client, name):
    response = manager_client.get(reverse(f"admin:{name}_changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "name",
    [
        "clients_client",
        "clients_clientevent",
        "contracts_servicecontract",
        "contracts_contractplan",
        "tickets_ticket",
    ],
)
def test_consultant_can_view_clients_contracts_plans_and_tickets(consultant_client, name):
    response = consultant_client.get(reverse(f"admin:{name}_changelist"))

    assert response.status_code == 200


def test_consultant_can_read_a_contract_but_not_change_it(consultant_client):
    contract = ContractFactory()
    url = reverse("admin:contracts_servicecontract_change", args=[contract.pk])

    assert consultant_client.get(url).status_code == 200
    response = consultant_client.post(url, {"renewal": RenewalMode.MANUAL})

    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.renewal == RenewalMode.AUTOMATIC


def test_consultant_cannot_open_the_add_contract_form(consultant_client):
    assert consultant_client.get(CONTRACT_ADD).status_code == 403


def test_consultant_cannot_add_a_contract(consultant_client):
    client = ClientFactory()
    plan = PlanFactory()

    response = consultant_client.post(CONTRACT_ADD, start_form(client, plan))

    assert response.status_code == 403
    assert not ServiceContract.objects.exists()


@pytest.mark.parametrize("action", ["cancel_contracts", "renew_contracts"])
def test_consultant_cannot_run_contract_actions(consultant_client, action):
    # Consultants only view contracts (consultancy/migrations/0001_roles.py); an admin action
    # without `permissions` is offered to everyone who can see the changelist.
    contract = ContractFactory()

    consultant_client.post(
        CONTRACTS,
        {
            "action": action,
            ACTION_CHECKBOX_NAME: [contract.pk],
            "confirm": "yes",
            "reason": "Consultant clicked it",
        },
    )

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE, f"a consultant ran {action}"
    assert ServiceContract.objects.count() == 1


def test_roleless_staff_user_cannot_see_contracts(roleless):
    roleless.is_staff = True
    roleless.save()
    http = HttpClient()
    http.force_login(roleless)

    assert http.get(CONTRACTS).status_code == 403


@pytest.mark.parametrize("name", CHANGELISTS)
def test_anonymous_visitor_is_sent_to_log_in(anon_client, name):
    url = reverse(f"admin:{name}_changelist")

    response = anon_client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert f"next={url}" in response["Location"]


# --- What a changelist costs ------------------------------------------------------------------
def _client_row(n: int) -> None:
    client = ClientFactory()
    ContractFactory(client=client, plan=PlanFactory())
    ChargeFactory(client=client)
    ContactFactory(client=client)


def _contract_row(n: int) -> None:
    ContractFactory(plan=PlanFactory(calendar=CalendarFactory(name=f"Cal {n}")))


def _plan_row(n: int) -> None:
    plan = PlanFactory(calendar=CalendarFactory(name=f"Cal {n}"))
    ContractFactory(plan=plan)


def _calendar_row(n: int) -> None:
    calendar = CalendarFactory(name=f"Cal {n}")
    Holiday.objects.create(calendar=calendar, date=dt.date(2025, 12, 25), name="Christmas")


def _charge_row(n: int) -> None:
    ChargeFactory(created_by=UserFactory())


def _event_row(n: int) -> None:
    client_event_record(
        client=ClientFactory(), kind=ClientEventKind.DROPPED, summary="Dropped", by=UserFactory()
    )


def _contact_row(n: int) -> None:
    ContactFactory()


def _ticket_row(n: int) -> None:
    contact = ContactFactory()
    TicketFactory(client=contact.client, contact=contact, assignee=UserFactory())


def _time_entry_row(n: int) -> None:
    ticket = TicketFactory(assignee=UserFactory())
    TimeEntryFactory(
        ticket=ticket, consultant=ticket.assignee, charge=ChargeFactory(client=ticket.client)
    )


# Queries per changelist page, whatever the number of rows. Every page pays 4 for the request:
# the session, the user, and the user's and the groups' permissions. Then:
#  - the count of the filtered rows and the count of all rows (for "N results (M total)"): 2;
#    the ticket, time-entry and client-history admins set show_full_result_count = False, so 1;
#  - the rows themselves, with everything shown joined in (list_select_related or annotated
#    subqueries): 1;
#  - contracts: the plan filter lists the plans: 1;
#  - charges and the client history: the date hierarchy reads the first and last date, then
#    the dates to offer: 2.
EXPECTED_QUERIES: dict[str, tuple[int, Callable[[int], None]]] = {
    "clients_client": (4 + 2 + 1, _client_row),
    "clients_contact": (4 + 2 + 1, _contact_row),
    "clients_charge": (4 + 2 + 1 + 2, _charge_row),
    "clients_clientevent": (4 + 1 + 1 + 2, _event_row),
    "contracts_servicecontract": (4 + 2 + 1 + 1, _contract_row),
    "contracts_contractplan": (4 + 2 + 1, _plan_row),
    "contracts_businesscalendar": (4 + 2 + 1, _calendar_row),
    "tickets_ticket": (4 + 1 + 1, _ticket_row),
    "tickets_timeentry": (4 + 1 + 1, _time_entry_row),
}


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_query_count_does_not_grow_with_rows(manager_client, name):
    expected, build_row = EXPECTED_QUERIES[name]

    (few, small), (many, large) = changelist_queries(
        manager_client, reverse(f"admin:{name}_changelist"), build_row
    )

    assert (few, many) == (3, 30)
    assert small == large, f"{name}: {small} queries for 3 rows, {large} for 30"
    assert small == expected
