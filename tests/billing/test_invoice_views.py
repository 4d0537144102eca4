"""The issued list (/billing/invoices/), one invoice as a printable page, and credit notes issued
from it: who may use them, what they show, bad input, and query counts that do not grow."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from billing import views
from billing.invoicing import credit_note_issue, invoices_issue
from billing.models import Invoice, InvoiceKind
from clients.models import Client
from tests.billing.view_helpers import FEB, break_fix_client, labour, messages_of, snapshot

pytestmark = pytest.mark.django_db

LIST_URL = reverse("billing:invoices")


def _issue(*clients: Client) -> list[Invoice]:
    invoices_issue(period=FEB, client_ids=[c.pk for c in clients])
    return list(Invoice.objects.filter(client__in=clients).order_by("pk"))


def _url(invoice: Invoice, name: str = "billing:invoice") -> str:
    return reverse(name, args=[invoice.number])


@pytest.fixture
def invoice(now: dt.datetime) -> Invoice:
    """Corner Bakery's February invoice: two hours of labour."""
    (issued,) = _issue(break_fix_client("Corner Bakery", "125.00", "62.50"))
    return issued


# --- Who may use them -------------------------------------------------------------------------
def _pages(invoice: Invoice) -> list[tuple[str, str]]:
    return [("get", LIST_URL), ("get", _url(invoice)), ("post", _url(invoice, "billing:credit"))]


def test_a_manager_sees_the_list_and_the_invoice(invoice: Invoice, manager_client: Any) -> None:
    assert manager_client.get(LIST_URL).status_code == 200
    assert manager_client.get(_url(invoice)).status_code == 200


@pytest.mark.parametrize(("persona", "status"), [("consultant_client", 403), ("anon_client", 302)])
def test_nobody_else_may_read_or_credit_an_invoice(
    invoice: Invoice, persona: str, status: int, request: pytest.FixtureRequest
) -> None:
    http = request.getfixturevalue(persona)
    before = snapshot()

    for method, url in _pages(invoice):
        response = getattr(http, method)(url, {"reason": "Goodwill"} if method == "post" else {})
        assert response.status_code == status, url
        if status == 302:
            assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot() == before


def test_a_get_issues_no_credit_note(invoice: Invoice, manager_client: Any) -> None:
    assert manager_client.get(_url(invoice, "billing:credit")).status_code == 405
    assert not invoice.credit_notes.exists()


# --- The issued list --------------------------------------------------------------------------
def test_the_list_shows_each_invoice_with_its_credits_and_export_marks(
    invoice: Invoice, manager: Any, manager_client: Any
) -> None:
    note = credit_note_issue(invoice=invoice, reason="Duplicate visit", by=manager)
    Invoice.objects.filter(pk=invoice.pk).update(exported_to_xero_at=dt.datetime.now(tz=dt.UTC))

    page = manager_client.get(LIST_URL).content.decode()

    row = _row(page, invoice.number)
    for text in ("Corner Bakery", "February 2025", "10 Mar 2025", "24 Mar 2025", "$187.50"):
        assert text in row
    assert "-$187.50" in row  # credited
    assert ">Xero<" in row
    assert ">QuickBooks<" not in row
    credit_row = _row(page, note.number)
    assert "Credit note" in credit_row
    assert f'for <a href="{_url(invoice)}">{invoice.number}</a>' in credit_row


def _row(page: str, number: str) -> str:
    """The table row of the invoice numbered `number`."""
    match = re.search(rf"<tr>\s*<td><a href=\"[^\"]*\">{number}</a>.*?</tr>", page, re.S)
    assert match, number
    return match[0]


def test_the_list_filters_by_month_kind_client_and_export(
    now: dt.datetime, manager: Any, manager_client: Any
) -> None:
    bakery = break_fix_client("Corner Bakery")
    vets = break_fix_client("Lakeside Vets")
    january = break_fix_client("Harbor Dental")
    labour(january, when=dt.datetime(2025, 1, 20, 15, tzinfo=dt.UTC))
    invoices_issue(period=FEB.previous, client_ids=[january.pk])
    bakery_invoice, vets_invoice = _issue(bakery, vets)
    note = credit_note_issue(invoice=vets_invoice, reason="Goodwill", by=manager)
    Invoice.objects.filter(pk=bakery_invoice.pk).update(
        exported_to_xero_at=dt.datetime.now(tz=dt.UTC)
    )

    def numbers(**filters: str) -> list[str]:
        return [i.number for i in manager_client.get(LIST_URL, filters).context["invoices"]]

    assert len(numbers()) == 4
    assert numbers(period="2025-01") == ["INV-2025-00001"]
    assert numbers(kind=InvoiceKind.CREDIT_NOTE) == [note.number]
    assert numbers(q="bakery") == [bakery_invoice.number]
    assert numbers(exported="xero") == [bakery_invoice.number]
    assert bakery_invoice.number not in numbers(exported="not-xero")
    assert numbers(exported="quickbooks") == []
    assert numbers(period="2025-02", kind="invoice", exported="not-xero") == [vets_invoice.number]


def test_a_bad_filter_is_ignored_and_said_so(invoice: Invoice, manager_client: Any) -> None:
    response = manager_client.get(LIST_URL, {"period": "2025-13", "kind": "refund"})

    assert [i.number for i in response.context["invoices"]] == [invoice.number]
    page = response.content.decode()
    assert "2025-13 is not a month." in page
    assert "(that filter was ignored)" in page


def test_the_list_pages_newest_first_by_keyset_and_back(
    now: dt.datetime, manager_client: Any, monkeypatch: pytest.MonkeyPatch, time_machine: Any
) -> None:
    monkeypatch.setattr(views, "INVOICES_PER_PAGE", 2)
    clients = [break_fix_client(f"Client {n}") for n in range(5)]
    # Two issued in the same microsecond: the id breaks the tie, as in the index.
    _issue(*clients[:2])
    time_machine.move_to(dt.datetime(2025, 3, 10, 17, tzinfo=dt.UTC), tick=False)
    for client in clients[2:]:
        _issue(client)
    newest = [i.number for i in Invoice.objects.order_by("-issued_at", "-pk")]

    first = manager_client.get(LIST_URL)
    second = manager_client.get(LIST_URL, {"after": first.context["older"]})
    third = manager_client.get(LIST_URL, {"after": second.context["older"]})
    back = manager_client.get(LIST_URL, {"before": third.context["newer"]})

    def numbers(response: Any) -> list[str]:
        return [i.number for i in response.context["invoices"]]

    assert numbers(first) + numbers(second) + numbers(third) == newest
    assert (first.context["newer"], third.context["older"]) == (None, None)
    assert numbers(back) == numbers(second)
    assert 'id="older"' in first.content.decode()


def test_a_broken_page_link_shows_the_newest_invoices(
    invoice: Invoice, manager_client: Any
) -> None:
    for junk in ("x", "12", "1.x", "9" * 30 + ".1"):
        response = manager_client.get(LIST_URL, {"after": junk})

        assert response.status_code == 200
        assert [i.number for i in response.context["invoices"]] == [invoice.number]
        assert messages_of(response) == ["That page link is broken; showing the newest invoices."]


@pytest.mark.parametrize("count", [2, 30])
def test_the_list_costs_the_same_queries_for_2_or_30_invoices(
    now: dt.datetime, count: int, manager: Any, manager_client: Any, django_assert_num_queries: Any
) -> None:
    invoices = _issue(*(break_fix_client(f"Client {n:02d}") for n in range(count)))
    credit_note_issue(invoice=invoices[0], reason="Goodwill", by=manager)

    # The session and the user; the user's and the groups' permissions; one page of invoices
    # with the invoice each credit note corrects joined and what was credited as a subquery.
    with django_assert_num_queries(5):
        response = manager_client.get(LIST_URL, {"q": "client", "kind": ""})

    assert len(response.context["invoices"]) == count + 1


# --- One invoice ------------------------------------------------------------------------------
def test_the_invoice_page_is_a_printable_invoice(
    invoice: Invoice, manager_client: Any, settings: Any
) -> None:
    settings.PRACTICE_NAME = "Northwind Test Practice"

    page = manager_client.get(_url(invoice)).content.decode()

    for text in (
        "Northwind Test Practice",
        "Corner Bakery",
        "corner@client.example",
        "Invoice INV-2025-00001",
        "10 March 2025",  # issued
        "24 March 2025",  # due: 14 days' terms
        "February 2025",
        "14 Feb 2025",
        "Labour, 60 min: on-site visit (125.00)",
        "$62.50",
        "$187.50",
    ):
        assert text in page, text
    assert 'data-print id="print-invoice"' in page
    assert "/static/js/print.js" in page
    assert "/static/css/billing.css" in page
    # The app is to run under a strict Content-Security-Policy: no inline script or style.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page
    assert " onclick=" not in page


def test_an_invoice_is_found_by_id_too_and_an_unknown_one_is_not_found(
    invoice: Invoice, manager_client: Any
) -> None:
    assert manager_client.get(reverse("billing:invoice", args=[invoice.pk])).status_code == 200
    assert (
        manager_client.get(reverse("billing:invoice", args=["INV-2099-00001"])).status_code == 404
    )
    assert manager_client.get(reverse("billing:invoice", args=["9" * 30])).status_code == 404


@pytest.mark.parametrize("lines", [1, 10])
def test_the_invoice_page_costs_the_same_queries_for_1_or_10_lines(
    now: dt.datetime, lines: int, manager: Any, manager_client: Any, django_assert_num_queries: Any
) -> None:
    (issued,) = _issue(break_fix_client("Corner Bakery", *["100.00"] * lines))
    first_line = issued.lines.order_by("position").first()
    assert first_line is not None
    credit_note_issue(invoice=issued, line_ids=[first_line.pk], reason="Goodwill", by=manager)

    # The session and the user; the user's and the groups' permissions; the invoice with who
    # issued it; its lines with any credit note line that reversed them; its credit notes.
    with django_assert_num_queries(7):
        response = manager_client.get(_url(issued))

    assert len(response.context["lines"]) == lines


# --- Credit notes -----------------------------------------------------------------------------
def test_a_credit_note_for_every_line_and_its_page(
    invoice: Invoice, manager: Any, manager_client: Any
) -> None:
    response = manager_client.post(
        _url(invoice, "billing:credit"), {"reason": "Visit was under warranty"}, follow=True
    )

    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert response.redirect_chain == [(_url(note), 302)]
    assert messages_of(response) == [
        f"Credit note {note.number} issued: $187.50 off {invoice.number}."
    ]
    assert (note.credits, note.total, note.issued_by) == (invoice, Decimal("-187.50"), manager)
    page = response.content.decode()
    assert "Credit note CN-2025-00001" in page
    assert f'corrects invoice <a href="{_url(invoice)}">{invoice.number}</a>' in page
    assert "Visit was under warranty" in page
    # Booked in the month it is issued (March); it says which month's invoice it corrects.
    assert f"<dt>Corrects</dt><dd>{invoice.number} (February 2025)</dd>" in page
    assert "<dt>Booked in</dt><dd>March 2025</dd>" in page
    assert 'id="credit-form"' not in page  # a credit note is not credited in turn

    corrected = manager_client.get(_url(invoice)).content.decode()
    assert "Credited by" in corrected
    assert note.number in corrected
    assert re.search(r'id="invoice-balance">\$0\.00<', corrected)
    assert "Every line of this invoice is credited." in corrected


def test_a_credit_note_for_the_lines_ticked(
    invoice: Invoice, manager: Any, manager_client: Any
) -> None:
    first, second = invoice.lines.order_by("position")

    manager_client.post(
        _url(invoice, "billing:credit"), {"reason": "Wrong rate", "lines": [second.pk]}
    )

    note = Invoice.objects.get(kind=InvoiceKind.CREDIT_NOTE)
    assert note.total == -second.amount
    form = manager_client.get(_url(invoice)).context["credit_form"]
    assert [value for value, _ in form.fields["lines"].choices] == [str(first.pk)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Say why the invoice is being credited."),
        ({"reason": "   "}, "Say why the invoice is being credited."),
        ({"reason": "Goodwill", "lines": ["999999"]}, "Select a valid choice."),
        ({"reason": "x" * 301}, "at most 300 characters"),
    ],
)
def test_a_credit_note_asked_for_wrongly_is_refused_and_changes_nothing(
    invoice: Invoice, data: dict[str, Any], message: str, manager_client: Any
) -> None:
    before = snapshot()

    response = manager_client.post(_url(invoice, "billing:credit"), data)

    assert response.status_code == 422
    (said,) = messages_of(response)
    assert said.startswith("No credit note was issued.")
    assert message in said
    assert snapshot() == before


def test_crediting_what_is_credited_already_changes_nothing(
    invoice: Invoice, manager: Any, manager_client: Any
) -> None:
    note = credit_note_issue(invoice=invoice, reason="Duplicate", by=manager)
    before = snapshot()

    twice = manager_client.post(_url(invoice, "billing:credit"), {"reason": "Again"})
    of_a_note = manager_client.post(_url(note, "billing:credit"), {"reason": "Undo"})

    assert "nothing is left to credit" in messages_of(twice)[0]
    assert "A credit note cannot itself be credited." in messages_of(of_a_note)[0]
    assert (twice.status_code, of_a_note.status_code) == (422, 422)
    assert snapshot() == before
