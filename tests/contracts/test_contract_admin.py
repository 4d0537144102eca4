"""Contracts in the admin: the add form, what may be edited, renew and cancel, finding contracts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse

from clients.models import ClientEventKind
from clients.services import client_drop
from contracts.models import ContractStatus, RenewalMode, ServiceContract
from contracts.signals import contract_started
from tests.admin_helpers import (
    CONTRACT_ADD,
    CONTRACTS,
    admin_messages,
    changelist_rows,
    start_form,
)
from tests.conftest import NOW
from tests.factories import ClientFactory, ContractFactory, EndedContractFactory, PlanFactory

pytestmark = pytest.mark.django_db


# --- Starting a contract from the add form ----------------------------------------------------
def test_adding_a_contract_starts_it_through_the_service(manager_client, now):
    client = ClientFactory()
    plan = PlanFactory(monthly_price=Decimal("500.00"), term_months=12)
    calls: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        calls.append(kwargs)

    contract_started.connect(receiver, weak=False)
    try:
        response = manager_client.post(CONTRACT_ADD, start_form(client, plan))
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

    response = manager_client.post(CONTRACT_ADD, start_form(client, plan, monthly_price="380.00"))

    assert response.status_code == 302
    assert ServiceContract.objects.get(client=client).monthly_price == Decimal("380.00")


def test_adding_a_contract_is_logged_against_the_new_contract(manager_client, now):
    client = ClientFactory()

    manager_client.post(CONTRACT_ADD, start_form(client, PlanFactory()))

    contract = ServiceContract.objects.get(client=client)
    entry = LogEntry.objects.get(action_flag=ADDITION)
    assert entry.object_id == str(contract.pk)


def test_adding_a_second_contract_for_a_client_shows_a_form_error(manager_client, now):
    existing = ContractFactory()

    response = manager_client.post(CONTRACT_ADD, start_form(existing.client, PlanFactory()))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "already has an active contract" in str(errors["client"])
    assert ServiceContract.objects.filter(client=existing.client).count() == 1


def test_adding_a_contract_for_a_dropped_client_shows_a_form_error(manager_client, now):
    client = client_drop(client=ClientFactory(), reason="Never paid")

    response = manager_client.post(CONTRACT_ADD, start_form(client, PlanFactory()))

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
    assert "Renewed 1 contract(s) for another term." in admin_messages(response)
    assert [(e.kind, e.by.username) for e in contract.client.events.all()] == [
        (ClientEventKind.CONTRACT_RENEWED, "alice")
    ]


def test_renew_action_warns_about_contracts_that_are_not_active(manager_client, now):
    old = EndedContractFactory()

    response = manager_client.post(
        CONTRACTS, {"action": "renew_contracts", ACTION_CHECKBOX_NAME: [old.pk]}, follow=True
    )

    assert ServiceContract.objects.count() == 1
    assert any("Only an active contract" in m for m in admin_messages(response))


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
    assert "Cancelled 1 contract(s)." in admin_messages(response)


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


def test_a_cancel_reason_longer_than_the_contract_keeps_is_refused(manager_client, now):
    contract = ContractFactory()

    response = manager_client.post(
        CONTRACTS,
        {
            "action": "cancel_contracts",
            ACTION_CHECKBOX_NAME: [contract.pk],
            "confirm": "yes",
            "reason": "x" * 301,  # end_reason holds 300
        },
    )

    assert response.status_code == 200
    assert "at most 300 characters" in str(response.context["form"].errors["reason"])
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
    names = {k for k, c in renewal_pipeline.items() if c in changelist_rows(response)}
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

    assert changelist_rows(response) == [acme]


def test_plan_and_contract_lists_show_money_as_money(manager_client):
    plan = PlanFactory(monthly_price=Decimal("1190.00"), overage_hourly_rate=Decimal("95.00"))
    ContractFactory(plan=plan, monthly_price=Decimal("1071.00"), discount_percent=Decimal("10"))

    plans = manager_client.get(reverse("admin:contracts_contractplan_changelist")).content.decode()
    contracts = manager_client.get(CONTRACTS).content.decode()

    assert '<td class="field-price_display">$1,190.00</td>' in plans
    assert '<td class="field-overage_display">$95.00</td>' in plans
    assert '<td class="field-price_display">$1,071.00 (10% off)</td>' in contracts


def test_contract_plan_and_client_pages_show_money_as_money(manager_client):
    plan = PlanFactory(monthly_price=Decimal("1190.00"), overage_hourly_rate=Decimal("95.00"))
    contract = ContractFactory(
        plan=plan, monthly_price=Decimal("1071.00"), discount_percent=Decimal("10")
    )

    pages = [
        manager_client.get(reverse(f"admin:{name}_change", args=[pk])).content.decode()
        for name, pk in [
            ("contracts_servicecontract", contract.pk),
            ("clients_client", contract.client_id),
            ("contracts_contractplan", plan.pk),  # in use: its overage rate is fixed
        ]
    ]

    contract_page, client_page, plan_page = pages
    assert "$1,071.00 (10% off)" in contract_page
    assert "1071.00" not in contract_page
    assert "$1,071.00 (10% off)" in client_page  # the contracts inline
    assert "$95.00" in plan_page
