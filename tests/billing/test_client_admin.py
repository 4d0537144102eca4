"""The client page in the admin with its invoices and credit notes: for those who may see
invoices, newest first, in one query however many there are."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.admin import CLIENT_INVOICES
from billing.invoicing import credit_note_issue
from clients.models import Client
from tests.billing.billing_helpers import INVOICES, invoice_page, issued_invoice
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def _client_page(client: Client) -> str:
    return reverse("admin:clients_client_change", args=[client.pk])


def test_the_client_page_lists_its_invoices_and_credit_notes_newest_first(now, manager_client):
    client = ClientFactory()
    invoice = issued_invoice(client, "300.00", "200.00")
    note = credit_note_issue(invoice=invoice, reason="Billed twice")  # issued in March
    someone_elses = issued_invoice()

    response = manager_client.get(_client_page(client))

    assert "Invoices" in [f.name for f in response.context["adminform"]]
    page = response.content.decode()
    assert page.index(note.number) < page.index(invoice.number)
    assert f"Credit note for {invoice.number}" in page
    assert someone_elses.number not in page
    for cell in ("February 2025", "March 2025", "$500.00", "-$500.00", "March 24, 2025"):
        assert f'<td class="nowrap">{cell}</td>' in page
    assert f"{INVOICES}?client__id__exact={client.pk}" in page


def test_the_client_page_shows_the_newest_invoices_and_links_to_the_rest(now, manager_client):
    client = ClientFactory()
    invoice = issued_invoice(client, *["100.00"] * CLIENT_INVOICES)
    for line in invoice.lines.all():
        credit_note_issue(invoice=invoice, line_ids=[line.pk], reason="x")

    page = manager_client.get(_client_page(client)).content.decode()

    assert f"Showing the newest {CLIENT_INVOICES}." in page
    assert f'href="{invoice_page(invoice)}"' not in page  # the oldest of 13
    assert "All invoices and credit notes of this client" in page


def test_the_client_page_costs_the_same_queries_however_many_invoices(now, manager_client):
    def queries(client: Client) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(_client_page(client)).status_code == 200
        return len(captured)

    few, many = ClientFactory(), ClientFactory()
    credit_note_issue(invoice=issued_invoice(few), reason="x")
    invoice = issued_invoice(many, *["100.00"] * 5)
    for line in invoice.lines.all():
        credit_note_issue(invoice=invoice, line_ids=[line.pk], reason="x")
    queries(few)  # warm the caches

    assert queries(few) == queries(many)


def test_a_client_without_invoices_says_so(now, manager_client):
    page = manager_client.get(_client_page(ClientFactory())).content.decode()

    assert "No invoices yet" in page


def test_consultants_client_page_has_no_invoices(now, consultant_client):
    client = ClientFactory()
    issued_invoice(client)

    response = consultant_client.get(_client_page(client))

    assert response.status_code == 200
    assert "Invoices" not in [f.name for f in response.context["adminform"]]
    assert "INV-2025" not in response.content.decode()
