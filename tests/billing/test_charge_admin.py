"""The ledger in the admin once billing exists: what may be charged by hand, and a charge on an
issued invoice that no one can change or delete (a credit note corrects it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from billing.invoicing import invoices_issue
from clients.models import Charge, ChargeKind, Client
from tests.admin_helpers import changelist_queries, changelist_rows
from tests.billing.billing_helpers import FEBRUARY
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    PaidPriorityTicketFactory,
    TimeEntryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHARGES = reverse("admin:clients_charge_changelist")
CHARGE_ADD = reverse("admin:clients_charge_add")


def _charge_page(charge: Charge) -> str:
    return reverse("admin:clients_charge_change", args=[charge.pk])


def _form(client: Client, **overrides: Any) -> dict[str, Any]:
    data = {
        "client": client.pk,
        "kind": ChargeKind.LABOUR,
        "amount": "250.00",
        "description": "Two hours on site",
        "hours": "2.00",
        "rate": "125.00",
        "occurred_at_0": "2025-03-10",
        "occurred_at_1": "10:00:00",
    }
    data.update(overrides)
    return data


def _invoiced(**fields: Any) -> Charge:
    """A charge on the client's issued February invoice."""
    charge = ChargeFactory(occurred_at=NOW - 30 * DAY, **fields)
    invoices_issue(period=FEBRUARY, client_ids=[charge.client_id], now=NOW)
    return charge


# --- Charging by hand -------------------------------------------------------------------------
def test_the_add_form_offers_only_the_kinds_charged_by_hand(now, manager_client):
    form = manager_client.get(CHARGE_ADD).context["adminform"].form

    kinds = [value for value, _ in form.fields["kind"].choices if value]
    assert kinds == [ChargeKind.LABOUR, ChargeKind.PAID_PRIORITY, ChargeKind.OTHER]


@pytest.mark.parametrize("kind", [ChargeKind.CONTRACT_FEE, ChargeKind.OVERAGE])
def test_a_contract_fee_or_overage_by_hand_is_a_form_error_and_saves_nothing(
    now, manager_client, kind
):
    response = manager_client.post(CHARGE_ADD, _form(ClientFactory(), kind=kind))

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.errors["kind"]
    assert error.startswith("Contract fees and overage are posted by the monthly billing run")
    assert not Charge.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0.00", "A charge must be more than $0.00."),
        ("amount", "-25.00", "A charge must be more than $0.00."),
        ("rate", "-1.00", "A rate cannot be negative."),
    ],
)
def test_an_amount_or_rate_that_breaks_the_ledgers_rules_is_a_field_error(
    now, manager_client, field, value, message
):
    response = manager_client.post(CHARGE_ADD, _form(ClientFactory(), **{field: value}))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not Charge.objects.exists()


def test_manager_charges_labour_by_hand_with_its_rate(now, manager_client, manager):
    client = ClientFactory()

    response = manager_client.post(CHARGE_ADD, _form(client))

    assert response.status_code == 302
    charge = Charge.objects.get(client=client)
    assert (charge.kind, charge.amount, charge.rate) == ("labour", Decimal("250.00"), 125)
    assert charge.created_by == manager


@pytest.mark.parametrize("posted_by", ["run", "time entry", "paid priority"])
def test_a_charge_the_app_posted_is_read_only_before_it_is_invoiced_too(
    now, manager_client, posted_by
):
    if posted_by == "run":
        charge = ChargeFactory(kind=ChargeKind.CONTRACT_FEE, amount=Decimal("500.00"))
    elif posted_by == "time entry":
        charge = TimeEntryFactory(charge=ChargeFactory(kind=ChargeKind.LABOUR)).charge
    else:
        charge = PaidPriorityTicketFactory().priority_charge
    before = (charge.amount, charge.client_id, charge.occurred_at)

    response = manager_client.get(_charge_page(charge))
    manager_client.post(_charge_page(charge), {**_form(charge.client), "amount": "1.00"})

    assert response.context["adminform"].form.fields == {}
    assert not response.context["has_delete_permission"]
    assert "Not yet: it goes on the client" in response.content.decode()
    charge.refresh_from_db()
    assert (charge.amount, charge.client_id, charge.occurred_at) == before


@pytest.mark.parametrize(
    ("hours", "rate", "amount", "message"),
    [
        ("-2", "125.00", "250.00", "Hours must be more than 0"),
        ("0", "125.00", "250.00", "Hours must be more than 0"),
        ("2", "125.00", "400.00", "2 h at $125.00/h is $250.00; make the amount that"),
    ],
)
def test_hours_and_rate_by_hand_must_come_to_the_amount(
    now, manager_client, hours, rate, amount, message
):
    client = ClientFactory()

    response = manager_client.post(
        CHARGE_ADD, {**_form(client), "hours": hours, "rate": rate, "amount": amount}
    )

    assert message in response.content.decode()
    assert not Charge.objects.exists()


def test_consultant_cannot_charge_by_hand(now, consultant_client):
    response = consultant_client.post(CHARGE_ADD, _form(ClientFactory()))

    assert response.status_code == 403
    assert not Charge.objects.exists()


# --- A charge on an issued invoice ------------------------------------------------------------
def test_an_invoiced_charge_is_shown_read_only_with_its_invoice(now, manager_client):
    charge = _invoiced()

    response = manager_client.get(_charge_page(charge))

    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert not response.context["has_delete_permission"]
    assert f"{charge.invoice_line}: issued, so a credit note corrects it" in (
        response.content.decode()
    )


def test_an_invoiced_charge_cannot_be_changed_or_deleted(now, manager_client):
    charge = _invoiced(amount=Decimal("125.00"))

    change = manager_client.post(_charge_page(charge), _form(charge.client, amount="1.00"))
    delete = manager_client.post(
        reverse("admin:clients_charge_delete", args=[charge.pk]), {"post": "yes"}
    )
    manager_client.post(
        CHARGES, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [charge.pk], "post": "yes"}
    )

    assert (change.status_code, delete.status_code) == (403, 403)
    charge.refresh_from_db()
    assert charge.amount == Decimal("125.00")


def test_a_charge_not_yet_invoiced_can_still_be_corrected(now, manager_client):
    charge = ChargeFactory(amount=Decimal("125.00"))

    # Two hours at $125.00, not the one it said.
    response = manager_client.post(_charge_page(charge), _form(charge.client, amount="250.00"))

    assert response.status_code == 302
    charge.refresh_from_db()
    assert charge.amount == Decimal("250.00")


def test_the_ledger_shows_rates_and_filters_by_invoiced(now, manager_client):
    invoiced = _invoiced(rate=Decimal("125.00"), hours=Decimal("1.00"))
    open_charge = ChargeFactory(kind=ChargeKind.OTHER)

    page = manager_client.get(CHARGES).content.decode()

    assert '<td class="field-rate_display">$125.00</td>' in page
    assert '<td class="field-rate_display">-</td>' in page  # no rate: a flat charge
    assert changelist_rows(manager_client.get(CHARGES, {"invoiced": "yes"})) == [invoiced]
    assert changelist_rows(manager_client.get(CHARGES, {"invoiced": "no"})) == [open_charge]


def _charge_row(n: int) -> None:
    # Every other row on an invoice: each row's check must not cost a query of its own.
    if n % 2:
        _invoiced(created_by=UserFactory())
    else:
        ChargeFactory(created_by=UserFactory())


def test_the_ledger_costs_the_same_queries_with_invoiced_charges(now, manager_client):
    # The request: 4 (session, user, the user's and the groups' permissions); the filtered and
    # the total count: 2; the rows with the client joined and "invoiced" as an EXISTS in the
    # same statement: 1; the date hierarchy's first and last date, then its dates: 2.
    (few, small), (many, large) = changelist_queries(manager_client, CHARGES, _charge_row)

    assert (few, many) == (3, 30)
    assert small == large, f"{small} queries for 3 rows, {large} for 30"
    assert small == 4 + 2 + 1 + 2
