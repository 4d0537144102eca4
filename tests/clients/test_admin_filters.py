"""The admin's filters on fields with choices take only those choices (clients/admin_filters.py).

`?status__exact=%00` answered 500 on PostgreSQL (a NUL cannot be in a string literal there);
found by tests/consultancy/test_hostile_input.py (issue 14).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CHOICE_FILTERS = [
    ("admin:clients_client_changelist", "status__exact", "active"),
    ("admin:clients_clientevent_changelist", "kind__exact", "dropped"),
    ("admin:clients_charge_changelist", "kind__exact", "labour"),
    ("admin:tickets_ticket_changelist", "priority__exact", "normal"),
    ("admin:tickets_ticket_changelist", "queue_tier__exact", "1"),
    ("admin:offers_conversionoffer_changelist", "status__exact", "sent"),
    ("admin:contracts_servicecontract_changelist", "status__exact", "active"),
    ("admin:billing_billingrun_changelist", "trigger__exact", "manual"),
    ("admin:billing_invoice_changelist", "kind__exact", "invoice"),
]


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "nonsense", "²"])
@pytest.mark.parametrize(("page", "param", "good"), CHOICE_FILTERS)
def test_a_filter_value_that_is_no_choice_is_the_admins_wrong_filter_answer(
    manager_client, page, param, good, bad
):
    url = reverse(page)

    response = manager_client.get(url, {param: bad})

    assert response.status_code == 302
    assert response["Location"] == f"{url}?e=1"


@pytest.mark.parametrize(("page", "param", "good"), CHOICE_FILTERS)
def test_a_filter_value_among_the_choices_filters(manager_client, page, param, good):
    assert manager_client.get(reverse(page), {param: good}).status_code == 200


def test_the_filter_still_narrows_the_list(manager_client):
    ClientFactory(name="Kept Active")
    url = reverse("admin:clients_client_changelist")

    shown = manager_client.get(url, {"status__exact": "dropped"}).context["cl"].result_list

    assert list(shown) == []
