"""Contract management in the Django admin: who sees what, what each page costs, and that every
change goes through the services (contracts.services, clients.services)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client, ClientEvent, ClientEventKind, ClientStatus
from clients.services import client_drop, client_event_record
from contracts.models import ContractStatus, Holiday, RenewalMode, ServiceContract
from contracts.signals import contract_started
from offers.models import OfferStatus
from tests.conftest import NOW
from tests.factories import (
    CalendarFactory,
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


CONTRACTS = reverse("admin:contracts_servicecontract_changelist")
CONTRACT_ADD = reverse("admin:contracts_servicecontract_add")
CLIENTS = reverse("admin:clients_client_changelist")

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


def _changelist_rows(response: Any) -> list[Any]:
    return list(response.context["cl"].result_list)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


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

    response = consultant_client.post(CONTRACT_ADD, _start_form(client, plan))

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
    url = reverse(f"admin:{name}_changelist")
    # Rows there before we build any (the migrations' default calendar, say).
    already = manager_client.get(url).context["cl"].result_count  # also warms the caches

    counts = []
    built = 0
    for rows in (3, 30):
        while built < rows:
            build_row(built)
            built += 1
        with CaptureQueriesContext(connection) as queries:
            response = manager_client.get(url)
        assert response.status_code == 200
        assert response.context["cl"].result_count == already + rows
        counts.append(len(queries))

    assert counts[0] == counts[1], f"{name}: {counts[0]} queries for 3 rows, {counts[1]} for 30"
    assert counts[0] == expected


# --- Starting a contract from the add form ----------------------------------------------------
def _start_form(client: Client, plan: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "client": client.pk,
        "plan": plan.pk,
        "starts_on": "2025-04-01",
        "discount_percent": "10",
        "monthly_price": "",
        "renewal": RenewalMode.AUTOMATIC,
    }
    data.update(overrides)
    return data


def test_adding_a_contract_starts_it_through_the_service(manager_client, now):
    client = ClientFactory()
    plan = PlanFactory(monthly_price=Decimal("500.00"), term_months=12)
    calls: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        calls.append(kwargs)

    contract_started.connect(receiver, weak=False)
    try:
        response = manager_client.post(CONTRACT_ADD, _start_form(client, plan))
    finally:
        contract_started.disconnect(receiver)

    assert response.status_code == 302, response.context["adminform"].form.errors
    contract = ServiceContract.objects.get(client=client)
    assert contract.status == ContractStatus.ACTIVE
    assert contract.starts_on == dt.date(2025, 4, 1)
    assert contract.ends_on == dt.date(2026, 3, 31)
    assert contract.monthly_price == Decimal("450.00")
    assert contract.discount_percent == Decimal("10.00")
    assert len(calls) == 1
    assert calls[0]["contract"] == contract
    assert [(e.kind, e.by.username) for e in client.events.all()] == [
        (ClientEventKind.CONTRACT_STARTED, "alice")
    ]


def test_adding_a_contract_with_an_agreed_price_keeps_that_price(manager_client, now):
    client = ClientFactory()
    plan = PlanFactory(monthly_price=Decimal("500.00"))

    response = manager_client.post(CONTRACT_ADD, _start_form(client, plan, monthly_price="380.00"))

    assert response.status_code == 302
    assert ServiceContract.objects.get(client=client).monthly_price == Decimal("380.00")


def test_adding_a_contract_is_logged_against_the_new_contract(manager_client, now):
    client = ClientFactory()

    manager_client.post(CONTRACT_ADD, _start_form(client, PlanFactory()))

    contract = ServiceContract.objects.get(client=client)
    entry = LogEntry.objects.get(action_flag=ADDITION)
    assert entry.object_id == str(contract.pk)


def test_adding_a_second_contract_for_a_client_shows_a_form_error(manager_client, now):
    existing = ContractFactory()

    response = manager_client.post(CONTRACT_ADD, _start_form(existing.client, PlanFactory()))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already has an active contract" in str(errors["client"])
    assert ServiceContract.objects.filter(client=existing.client).count() == 1


def test_adding_a_contract_for_a_dropped_client_shows_a_form_error(manager_client, now):
    client = client_drop(client=ClientFactory(), reason="Never paid")

    response = manager_client.post(CONTRACT_ADD, _start_form(client, PlanFactory()))

    assert response.status_code == 200
    assert "dropped" in str(response.context["adminform"].form.errors["client"])
    assert not ServiceContract.objects.exists()


def test_only_the_renewal_mode_of_a_contract_can_be_edited(manager_client, now):
    contract = ContractFactory(monthly_price=Decimal("500.00"))
    url = reverse("admin:contracts_servicecontract_change", args=[contract.pk])

    response = manager_client.post(
        url, {"renewal": RenewalMode.MANUAL, "monthly_price": "1.00", "status": "cancelled"}
    )

    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.renewal == RenewalMode.MANUAL
    assert contract.monthly_price == Decimal("500.00")
    assert contract.status == ContractStatus.ACTIVE


def test_contracts_cannot_be_deleted_in_the_admin(manager_client):
    contract = ContractFactory()

    response = manager_client.post(
        reverse("admin:contracts_servicecontract_delete", args=[contract.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert ServiceContract.objects.filter(pk=contract.pk).exists()


# --- Actions ----------------------------------------------------------------------------------
def test_renew_action_starts_the_next_term(manager_client, now):
    contract = ContractFactory(starts_on=dt.date(2024, 4, 1), ends_on=dt.date(2025, 3, 31))

    response = manager_client.post(
        CONTRACTS, {"action": "renew_contracts", ACTION_CHECKBOX_NAME: [contract.pk]}, follow=True
    )

    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED
    renewed = ServiceContract.objects.active().get(client=contract.client)
    assert renewed.renewed_from == contract
    assert renewed.starts_on == dt.date(2025, 4, 1)
    assert "Renewed 1 contract(s) for another term." in _messages(response)
    assert [(e.kind, e.by.username) for e in contract.client.events.all()] == [
        (ClientEventKind.CONTRACT_RENEWED, "alice")
    ]


def test_renew_action_warns_about_contracts_that_are_not_active(manager_client, now):
    old = EndedContractFactory()

    response = manager_client.post(
        CONTRACTS, {"action": "renew_contracts", ACTION_CHECKBOX_NAME: [old.pk]}, follow=True
    )

    assert ServiceContract.objects.count() == 1
    assert any("Only an active contract" in m for m in _messages(response))


def test_cancel_action_asks_for_confirmation_first(manager_client, now):
    contract = ContractFactory(client=ClientFactory(name="Acme Dental"))

    response = manager_client.post(
        CONTRACTS, {"action": "cancel_contracts", ACTION_CHECKBOX_NAME: [contract.pk]}
    )

    assert response.status_code == 200
    assert "admin/confirm_with_reason.html" in [t.name for t in response.templates]
    assert "Acme Dental" in response.content.decode()
    assert 'name="confirm"' in response.content.decode()
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_cancel_action_cancels_once_confirmed_with_a_reason(manager_client, now):
    contract = ContractFactory()
    other = ContractFactory()

    response = manager_client.post(
        CONTRACTS,
        {
            "action": "cancel_contracts",
            ACTION_CHECKBOX_NAME: [contract.pk],
            "confirm": "yes",
            "reason": "Moved to an in-house IT person",
        },
        follow=True,
    )

    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.status == ContractStatus.CANCELLED
    assert contract.ended_at == NOW
    assert contract.end_reason == "Moved to an in-house IT person"
    assert [(e.kind, e.by.username) for e in contract.client.events.all()] == [
        (ClientEventKind.CONTRACT_CANCELLED, "alice")
    ]
    other.refresh_from_db()
    assert other.status == ContractStatus.ACTIVE
    assert "Cancelled 1 contract(s)." in _messages(response)


def test_cancel_confirmation_without_a_reason_cancels_nothing(manager_client, now):
    contract = ContractFactory()

    response = manager_client.post(
        CONTRACTS,
        {"action": "cancel_contracts", ACTION_CHECKBOX_NAME: [contract.pk], "confirm": "yes"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


# --- Finding contracts ------------------------------------------------------------------------
@pytest.fixture
def renewal_pipeline(now: dt.datetime) -> dict[str, ServiceContract]:
    return {
        "march": ContractFactory(starts_on=dt.date(2024, 4, 1), ends_on=dt.date(2025, 3, 31)),
        "april": ContractFactory(starts_on=dt.date(2024, 4, 16), ends_on=dt.date(2025, 4, 15)),
        "overdue": ContractFactory(starts_on=dt.date(2024, 3, 1), ends_on=dt.date(2025, 2, 28)),
        # A term that ended in March already (renewed): not part of the renewal pipeline.
        "ended_march": EndedContractFactory(
            starts_on=dt.date(2024, 3, 3), ends_on=dt.date(2025, 3, 2)
        ),
        "next_year": ContractFactory(starts_on=dt.date(2025, 3, 1), ends_on=dt.date(2026, 2, 28)),
    }


@pytest.mark.parametrize(
    ("ends", "expected"),
    [
        ("2025-03", {"march"}),
        ("2025-04", {"april"}),
        ("2026-02", {"next_year"}),
        ("past", {"overdue"}),
        ("2025-13", set()),
    ],
)
def test_end_month_filter_lists_active_contracts_ending_then(
    manager_client, renewal_pipeline, ends, expected
):
    response = manager_client.get(CONTRACTS, {"ends": ends})

    assert response.status_code == 200
    names = {k for k, c in renewal_pipeline.items() if c in _changelist_rows(response)}
    assert names == expected


def test_end_month_filter_offers_the_next_twelve_months(manager_client, now):
    response = manager_client.get(CONTRACTS)

    content = response.content.decode()
    assert "?ends=past" in content
    assert "?ends=2025-03" in content
    assert "?ends=2026-02" in content
    assert "?ends=2026-03" not in content


def test_contracts_can_be_found_by_client_name(manager_client):
    acme = ContractFactory(client=ClientFactory(name="Acme Dental"))
    ContractFactory(client=ClientFactory(name="Bluebird Bakery"))

    response = manager_client.get(CONTRACTS, {"q": "acme"})

    assert _changelist_rows(response) == [acme]


def test_clients_can_be_found_by_name_or_contact_email(manager_client):
    acme = ClientFactory(name="Acme Dental")
    bluebird = ClientFactory(name="Bluebird Bakery")
    ContactFactory(client=bluebird, email="owner@bluebird.example")
    ContactFactory(client=bluebird, email="front@bluebird.example", is_primary=False)

    assert [c.pk for c in _changelist_rows(manager_client.get(CLIENTS, {"q": "acme"}))] == [acme.pk]
    by_email = _changelist_rows(manager_client.get(CLIENTS, {"q": "bluebird.example"}))
    assert [c.pk for c in by_email] == [bluebird.pk]


@pytest.mark.parametrize(
    ("service", "expected"), [("contract", {"Acme Dental"}), ("transactional", {"Bluebird"})]
)
def test_clients_can_be_filtered_by_contract_or_transactional(manager_client, service, expected):
    ContractFactory(client=ClientFactory(name="Acme Dental"))
    EndedContractFactory(client=ClientFactory(name="Bluebird"))

    response = manager_client.get(CLIENTS, {"service": service})

    assert {c.name for c in _changelist_rows(response)} == expected


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
    messages = _messages(response)
    assert any("Acme Dental holds an active contract" in m for m in messages)
    assert "Dropped 1 client(s)." in messages


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
    assert "Reinstated 1 client(s)." in _messages(response)


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


def _client_page_form(client: Client, **fields: str) -> dict[str, str]:
    data = {
        "name": client.name,
        "customer_since": client.customer_since.isoformat(),
        "notes": client.notes,
        **({"opted_out": "on"} if client.offers_opt_out else {}),
    }
    for prefix in ("contacts", "contracts"):
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_saving_a_client_page_leaves_its_history_as_it_was(manager_client):
    client = _client_with_history()
    url = reverse("admin:clients_client_change", args=[client.pk])

    response = manager_client.post(url, _client_page_form(client, name="Quiet Corporation"))

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
    rows = _changelist_rows(manager_client.get(log))
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


def test_a_manager_opting_a_client_out_withdraws_its_open_offer_and_says_so(manager_client, now):
    offer = OfferFactory(client=ClientFactory(name="Quiet Corp"))
    client = offer.client
    url = reverse("admin:clients_client_change", args=[client.pk])

    response = manager_client.post(url, _client_page_form(client, opted_out="on"))

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
    data = _client_page_form(client)
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

    manager_client.post(url, _client_page_form(client, notes="Prefers phone calls"))

    client.refresh_from_db()
    assert client.notes == "Prefers phone calls"
    assert client.offers_opt_out
    assert not client.events.exists()


def test_plan_and_contract_lists_show_money_as_money(manager_client):
    plan = PlanFactory(monthly_price=Decimal("1190.00"), overage_hourly_rate=Decimal("95.00"))
    ContractFactory(plan=plan, monthly_price=Decimal("1071.00"), discount_percent=Decimal("10"))

    plans = manager_client.get(reverse("admin:contracts_contractplan_changelist")).content.decode()
    contracts = manager_client.get(CONTRACTS).content.decode()

    assert '<td class="field-price_display">$1,190.00</td>' in plans
    assert '<td class="field-overage_display">$95.00</td>' in plans
    assert '<td class="field-price_display">$1,071.00 (10% off)</td>' in contracts
