"""The month's billing page (/billing/<YYYY-MM>/): who may use it, the runs, the drafts, issuing
and the export buttons, bad input, and a query count that does not grow with the drafts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from billing import views
from billing.exports import InvoiceExport
from billing.invoicing import credit_note_issue
from billing.models import BillingRun, ContractPeriod, Invoice, RunTrigger
from billing.staff import MANAGE_BILLING
from clients.models import Charge, ChargeKind
from tests.billing.view_helpers import (
    FEB,
    break_fix_client,
    contract_client,
    messages_of,
    snapshot,
)

pytestmark = pytest.mark.django_db

PERIOD_URL = reverse("billing:period", args=["2025-02"])
RUN_URL = reverse("billing:run", args=["2025-02"])
ISSUE_URL = reverse("billing:issue", args=["2025-02"])


# --- Who may use it ---------------------------------------------------------------------------
GET_PAGES = [reverse("billing:index"), PERIOD_URL]
POST_PAGES = [RUN_URL, ISSUE_URL, reverse("billing:export", args=["2025-02", "xero"])]
EVERY_PAGE = [("get", url) for url in GET_PAGES] + [("post", url) for url in POST_PAGES]


@pytest.mark.parametrize("url", GET_PAGES)
def test_a_manager_sees_the_billing_pages(now: dt.datetime, url: str, manager_client: Any) -> None:
    response = manager_client.get(url, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain in ([], [(PERIOD_URL, 302)])
    assert "Billing: February 2025" in response.content.decode()


@pytest.mark.parametrize(("method", "url"), EVERY_PAGE)
def test_a_consultant_is_refused_every_billing_page(
    now: dt.datetime, method: str, url: str, consultant_client: Any
) -> None:
    contract_client("Harbor Dental")
    before = snapshot()

    assert getattr(consultant_client, method)(url).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("method", "url"), EVERY_PAGE)
def test_an_anonymous_visitor_is_sent_to_log_in(
    now: dt.datetime, method: str, url: str, anon_client: Any
) -> None:
    contract_client("Harbor Dental")
    before = snapshot()

    response = getattr(anon_client, method)(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot() == before


@pytest.mark.parametrize("url", POST_PAGES)
def test_a_get_changes_nothing(now: dt.datetime, url: str, manager_client: Any) -> None:
    contract_client("Harbor Dental")
    before = snapshot()

    assert manager_client.get(url).status_code == 405
    assert snapshot() == before


def test_the_billing_link_is_in_the_nav_of_managers_only(
    now: dt.datetime, manager_client: Any, consultant_client: Any
) -> None:
    link = f'href="{reverse("billing:index")}">Billing</a>'
    # base.html asks perms.billing.add_invoice: the permission billing.staff names.
    assert MANAGE_BILLING == "billing.add_invoice"

    assert link in manager_client.get(reverse("tickets:queue")).content.decode()
    assert link not in consultant_client.get(reverse("tickets:queue")).content.decode()


# --- Which month ------------------------------------------------------------------------------
def test_billing_opens_on_the_last_month_that_has_ended(
    now: dt.datetime, manager_client: Any
) -> None:
    response = manager_client.get(reverse("billing:index"))

    assert response["Location"] == PERIOD_URL


def test_the_month_picker_goes_to_the_month_asked_for(
    now: dt.datetime, manager_client: Any
) -> None:
    response = manager_client.get(reverse("billing:index"), {"period": "2024-11"})

    assert response["Location"] == reverse("billing:period", args=["2024-11"])


def test_a_page_links_the_months_before_and_after_but_not_one_still_running(
    now: dt.datetime, manager_client: Any
) -> None:
    january = manager_client.get(reverse("billing:period", args=["2025-01"])).content.decode()
    february = manager_client.get(PERIOD_URL).content.decode()

    assert 'href="/billing/2024-12/"' in january
    assert 'href="/billing/2025-02/"' in january
    assert 'href="/billing/2025-01/"' in february
    assert "/billing/2025-03/" not in february  # March has not ended
    assert 'type="month"' in february
    first = manager_client.get(reverse("billing:period", args=["0001-01"]))
    assert first.status_code == 200
    assert 'id="previous-period"' not in first.content.decode()  # no month before it
    assert 'max="2025-02"' in february


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (reverse("billing:period", args=["2025-03"]), "March 2025 has not ended yet"),
        (reverse("billing:period", args=["2031-07"]), "July 2031 has not ended yet"),
        (reverse("billing:period", args=["2025-13"]), "2025-13 is not a month."),
        (reverse("billing:period", args=["0000-05"]), "0000-05 is not a month."),
        (reverse("billing:index") + "?period=2025-1x", "is not a month like 2026-11"),
        (reverse("billing:index") + "?period=", "Pick a month to show."),
    ],
)
def test_a_month_that_cannot_be_billed_says_why_on_the_last_closed_month(
    now: dt.datetime, url: str, message: str, manager_client: Any
) -> None:
    response = manager_client.get(url, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1] == (PERIOD_URL, 302)
    assert any(message in m for m in messages_of(response))


def test_a_path_that_is_no_month_at_all_says_so(now: dt.datetime, manager_client: Any) -> None:
    for word, message in [
        ("february", "'february' is not a month like 2026-11."),
        ("2025-2", "'2025-2' is not a month like 2026-11."),
    ]:
        response = manager_client.get(reverse("billing:period", args=[word]), follow=True)

        assert response.redirect_chain[-1] == (PERIOD_URL, 302)
        assert messages_of(response) == [message]


# --- The run ----------------------------------------------------------------------------------
def test_the_run_posts_the_months_fees_and_the_page_lists_it(
    now: dt.datetime, manager: User, manager_client: Any
) -> None:
    harbor = contract_client("Harbor Dental", price="500.00")
    contract_client("Lakeside Vets", price="320.00")

    response = manager_client.post(RUN_URL, follow=True)

    assert messages_of(response) == [
        "Posted 2 contract fees for February 2025: fees $820.00, overage $0.00."
    ]
    fee = Charge.objects.get(client=harbor, kind=ChargeKind.CONTRACT_FEE)
    assert fee.amount == Decimal("500.00")
    run = BillingRun.objects.get()
    assert (run.trigger, run.triggered_by, run.period) == (
        RunTrigger.MANUAL,
        manager,
        FEB.first_day,
    )
    page = response.content.decode()
    assert 'id="runs"' in page
    assert "Manual (/billing/) · Alice" in page
    assert "$820.00" in page


def test_a_second_run_posts_nothing_and_says_so(now: dt.datetime, manager_client: Any) -> None:
    contract_client("Harbor Dental")
    manager_client.post(RUN_URL, follow=True)
    charges = Charge.objects.count()

    response = manager_client.post(RUN_URL, follow=True)

    assert messages_of(response) == [
        "Nothing new to post for February 2025: every contract that covers it is billed already."
    ]
    assert Charge.objects.count() == charges
    assert ContractPeriod.objects.count() == 1


@pytest.mark.parametrize("month", ["2025-03", "2025-13"])
def test_a_run_of_a_month_that_cannot_be_billed_posts_nothing(
    now: dt.datetime, month: str, manager_client: Any
) -> None:
    contract_client("Harbor Dental")
    before = snapshot()

    response = manager_client.post(reverse("billing:run", args=[month]), follow=True)

    assert response.redirect_chain[-1] == (PERIOD_URL, 302)
    assert len(messages_of(response)) == 1
    assert snapshot() == before


# --- Drafts and issuing -----------------------------------------------------------------------
def test_drafts_show_each_clients_charges_by_kind_with_grand_totals(
    now: dt.datetime, manager_client: Any
) -> None:
    contract_client("Harbor Dental", price="500.00")
    break_fix_client("Corner Bakery", "125.00", "62.50")
    manager_client.post(RUN_URL, follow=True)

    response = manager_client.get(PERIOD_URL)

    page = response.content.decode()
    rows = [(r.client_name, r.amounts, r.total) for r in response.context["rows"]]
    zero = Decimal("0.00")
    assert rows == [
        ("Corner Bakery", [zero, zero, Decimal("187.50"), zero, zero], Decimal("187.50")),
        ("Harbor Dental", [Decimal("500.00"), zero, zero, zero, zero], Decimal("500.00")),
    ]
    assert "Issue all 2 invoices" in page
    assert "$687.50" in page  # the grand total, through |money
    assert response.context["grand"] == [Decimal("500.00"), zero, Decimal("187.50"), zero, zero]


def test_issue_one_client_then_all_the_others(now: dt.datetime, manager_client: Any) -> None:
    harbor = contract_client("Harbor Dental")
    bakery = break_fix_client("Corner Bakery")
    vets = break_fix_client("Lakeside Vets")
    manager_client.post(RUN_URL, follow=True)

    one = manager_client.post(ISSUE_URL, {"client": bakery.pk}, follow=True)

    assert messages_of(one) == ["Issued 1 invoice for February 2025."]
    assert list(Invoice.objects.values_list("client", flat=True)) == [bakery.pk]
    assert [r.client_name for r in one.context["rows"]] == ["Harbor Dental", "Lakeside Vets"]

    rest = manager_client.post(ISSUE_URL, follow=True)

    assert messages_of(rest) == ["Issued 2 invoices for February 2025."]
    assert set(Invoice.objects.values_list("client", flat=True)) == {harbor.pk, bakery.pk, vets.pk}
    assert rest.context["rows"] == []
    assert "3 invoices issued for February 2025" in rest.content.decode()


def test_issuing_a_month_twice_says_so_and_changes_nothing(
    now: dt.datetime, manager_client: Any
) -> None:
    bakery = break_fix_client("Corner Bakery")
    manager_client.post(ISSUE_URL, follow=True)
    before = snapshot()

    again = manager_client.post(ISSUE_URL, follow=True)
    one_again = manager_client.post(ISSUE_URL, {"client": bakery.pk}, follow=True)

    for response in (again, one_again):
        (message,) = messages_of(response)
        assert message.startswith("Nothing was issued. February 2025 is already invoiced")
    assert snapshot() == before


def test_issuing_with_nothing_waiting_says_so(now: dt.datetime, manager_client: Any) -> None:
    response = manager_client.post(ISSUE_URL, follow=True)

    assert messages_of(response) == ["Nothing to invoice for February 2025: no charge is waiting."]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("client", ["abc", "-1", "0", "99999999999999999999"])
def test_issuing_for_junk_instead_of_a_client_issues_nothing(
    now: dt.datetime, client: str, manager_client: Any
) -> None:
    break_fix_client("Corner Bakery")
    before = snapshot()

    response = manager_client.post(ISSUE_URL, {"client": client}, follow=True)

    assert messages_of(response) == ["Nothing was issued: that is not a client of this page."]
    assert snapshot() == before


def test_issuing_a_month_that_has_not_ended_issues_nothing(
    now: dt.datetime, manager_client: Any
) -> None:
    break_fix_client("Corner Bakery")
    before = snapshot()

    response = manager_client.post(reverse("billing:issue", args=["2025-03"]), follow=True)

    assert any("March 2025 has not ended yet" in m for m in messages_of(response))
    assert snapshot() == before


# --- Query budget -----------------------------------------------------------------------------
@pytest.mark.parametrize("clients", [2, 30])
def test_the_month_page_costs_the_same_queries_for_2_or_30_drafts(
    now: dt.datetime, clients: int, manager_client: Any, django_assert_num_queries: Any
) -> None:
    contract_client("Harbor Dental")
    for n in range(clients - 1):
        break_fix_client(f"Client {n:03d}")
    manager_client.post(RUN_URL, follow=True)
    # A second run on record: the page lists runs without a query each.
    BillingRun.objects.create(period=FEB.first_day, trigger=RunTrigger.COMMAND)

    # The session and the user; the user's and the groups' permissions; the draft totals and
    # count (one aggregate); the page of drafts (one grouped query, its clients a subquery);
    # the month's runs with who ran them; the count of invoices issued for the month; the
    # invoices waiting for each export (one aggregate); the rate card (is the month before its
    # "Bill from"?).
    with django_assert_num_queries(10):
        response = manager_client.get(PERIOD_URL)

    assert len(response.context["rows"]) == clients
    assert len(response.context["runs"]) == 2


def test_more_drafts_than_a_page_are_paged_in_client_order_at_the_same_cost(
    now: dt.datetime,
    manager_client: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_num_queries: Any,
) -> None:
    monkeypatch.setattr(views, "DRAFTS_PER_PAGE", 10)
    for n in range(25):
        break_fix_client(f"Client {n:03d}", "100.00")

    with django_assert_num_queries(10):
        second = manager_client.get(PERIOD_URL, {"page": 2})
    last = manager_client.get(PERIOD_URL, {"page": 99})  # past the end: the last page

    assert [r.client_name for r in second.context["rows"]] == [
        f"Client {n:03d}" for n in range(10, 20)
    ]
    assert [r.client_name for r in last.context["rows"]] == [
        f"Client {n:03d}" for n in range(20, 25)
    ]
    page = second.content.decode()
    assert "Clients 11\N{EN DASH}20 of 25" in page
    assert "Issue all 25 invoices" in page
    assert "$2,500.00" in page  # the grand total covers every page


# --- Exports ----------------------------------------------------------------------------------
EXPORT_URL = reverse("billing:export", args=["2025-02", "quickbooks"])


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in for billing.exports.export_invoices: records its calls, returns a small file."""
    calls: list[dict[str, Any]] = []

    def fake(**kwargs: Any) -> InvoiceExport:
        calls.append(kwargs)
        content = "InvoiceNo,Customer\r\nINV-2025-00001,Corner Bakery\r\n"
        return InvoiceExport(
            filename="quickbooks-invoices-2025-02.csv", content=content, invoices=1, rows=1
        )

    monkeypatch.setattr(views, "export_invoices", fake)
    return calls


def test_the_month_page_offers_both_exports_with_what_is_pending(
    now: dt.datetime, manager_client: Any
) -> None:
    for n in range(3):
        break_fix_client(f"Client {n:03d}", "100.00")
    manager_client.post(ISSUE_URL)
    manager_client.post(reverse("billing:export", args=["2025-02", "quickbooks"]))
    break_fix_client("Late Client", "100.00")
    manager_client.post(ISSUE_URL)

    page = manager_client.get(PERIOD_URL).content.decode()

    assert "Export for Xero (CSV)" in page
    assert "Export for QuickBooks (CSV)" in page
    assert 'formaction="/billing/2025-02/export/xero/"' in page
    assert 'formaction="/billing/2025-02/export/quickbooks/"' in page
    assert "4 not yet exported" in page  # Xero: none exported yet
    assert "1 not yet exported" in page  # QuickBooks: the invoice issued since
    assert 'name="include_exported"' in page
    assert "QuickBooks Online cannot import credit notes" not in page


def test_the_month_page_says_quickbooks_takes_its_credit_notes_by_hand(
    now: dt.datetime, manager: User, manager_client: Any, time_machine: Any
) -> None:
    break_fix_client("Acme Dental", "100.00")
    manager_client.post(ISSUE_URL)
    # February's invoice credited on 10 March: the credit note belongs to March's exports.
    credit_note_issue(invoice=Invoice.objects.get(), reason="Billed twice")
    time_machine.move_to(dt.datetime(2025, 4, 2, 15, 0, tzinfo=dt.UTC), tick=False)

    manager_client.force_login(manager)  # three weeks on, the session has expired

    page = manager_client.get(reverse("billing:period", args=["2025-03"])).content.decode()

    assert "QuickBooks Online cannot import credit notes: enter this month" in page
    assert "1 by hand there (the Xero file holds them)" in page


def test_an_export_is_a_csv_attachment(
    now: dt.datetime, manager_client: Any, exported: list[dict[str, Any]]
) -> None:
    response = manager_client.post(EXPORT_URL, {"include_exported": "on"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="quickbooks-invoices-2025-02.csv"'
    )
    assert response.content.decode().startswith("InvoiceNo,Customer\r\n")
    assert exported == [{"period": FEB, "export_format": "quickbooks", "include_exported": True}]


def test_an_export_leaves_out_what_was_exported_unless_asked(
    now: dt.datetime, manager_client: Any, exported: list[dict[str, Any]]
) -> None:
    manager_client.post(EXPORT_URL)

    assert exported[0]["include_exported"] is False


@pytest.mark.parametrize(("persona", "status"), [("consultant_client", 403), ("anon_client", 302)])
def test_only_a_manager_may_export(
    now: dt.datetime,
    persona: str,
    status: int,
    request: pytest.FixtureRequest,
    exported: list[dict[str, Any]],
) -> None:
    response = request.getfixturevalue(persona).post(EXPORT_URL)

    assert response.status_code == status
    assert exported == []


def test_an_export_is_post_only(
    now: dt.datetime, manager_client: Any, exported: list[dict[str, Any]]
) -> None:
    assert manager_client.get(EXPORT_URL).status_code == 405
    assert exported == []


@pytest.mark.parametrize(
    "url",
    [
        reverse("billing:export", args=["2025-02", "sage"]),
        reverse("billing:export", args=["2025-03", "xero"]),
        reverse("billing:export", args=["2025-13", "xero"]),
    ],
)
def test_an_unknown_format_or_a_month_that_cannot_be_billed_exports_nothing(
    now: dt.datetime, url: str, manager_client: Any, exported: list[dict[str, Any]]
) -> None:
    response = manager_client.post(url)

    assert response.status_code in (302, 404)
    assert exported == []
