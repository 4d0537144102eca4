"""Billing in the admin: the rate card, billing runs and contract periods, issued invoices.
Managers bill; consultants see none of it; anonymous visitors are sent to log in. (The ledger's
manual charges: test_charge_admin.py; the client's invoices on its page: test_client_admin.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, reverse

from billing.invoicing import credit_note_issue
from billing.models import BillingRun, ContractPeriod, Invoice, InvoiceKind, RateCard, RunTrigger
from tests.admin_helpers import admin_messages, changelist_queries, changelist_rows
from tests.billing.billing_helpers import INVOICES, billed_run, invoice_page, issued_invoice
from tests.conftest import DAY, NOW
from tests.factories import ChargeFactory, ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

RATE_CARD = reverse("admin:billing_ratecard_changelist")
RATE_CARD_ROW = reverse("admin:billing_ratecard_change", args=[1])
RUNS = reverse("admin:billing_billingrun_changelist")
PERIODS = reverse("admin:billing_contractperiod_changelist")


# --- Who may see what -------------------------------------------------------------------------
def _pages() -> list[str]:
    invoice = issued_invoice()
    run = billed_run()
    return [
        RATE_CARD_ROW,
        RUNS,
        reverse("admin:billing_billingrun_change", args=[run.pk]),
        PERIODS,
        reverse("admin:billing_contractperiod_change", args=[run.contract_periods.get().pk]),
        INVOICES,
        invoice_page(invoice),
    ]


def test_manager_opens_every_billing_page(now, manager_client):
    responses = {url: manager_client.get(url).status_code for url in _pages()}

    assert responses == dict.fromkeys(responses, 200)
    assert manager_client.get(RATE_CARD).status_code == 302


def test_the_admin_index_lists_billing_for_managers_only(now, manager_client, consultant_client):
    index = reverse("admin:index")

    assert f'href="{RATE_CARD}"' in manager_client.get(index).content.decode()
    assert RATE_CARD not in consultant_client.get(index).content.decode()


def test_consultant_is_refused_every_billing_page(now, consultant_client):
    responses = {url: consultant_client.get(url).status_code for url in [RATE_CARD, *_pages()]}

    assert responses == dict.fromkeys(responses, 403)


def test_anonymous_visitor_is_sent_to_log_in(now, anon_client):
    for url in [RATE_CARD, *_pages()]:
        response = anon_client.get(url)

        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('login')}?next={url}")


# --- The rate card ----------------------------------------------------------------------------
def test_the_rate_card_list_goes_straight_to_the_one_row_even_before_it_exists(now, manager_client):
    # A migration makes the row; a flushed database may have lost it.
    RateCard.objects.all().delete()

    response = manager_client.get(RATE_CARD)

    assert response.status_code == 302
    assert response["Location"] == RATE_CARD_ROW
    assert manager_client.get(RATE_CARD_ROW).status_code == 200
    assert RateCard.objects.count() == 1


def _rate_card_form(**changes: str) -> dict[str, str]:
    form = {
        "hourly_rate": "160.00",
        "after_hours_rate": "240.00",
        "calendar": "",
        "paid_priority_surcharge": "95.00",
        "payment_terms_days": "30",
        "issue_after_run": "on",
        "sales_account_code": "4000",
        "tax_type": "Tax on Sales",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def test_the_rate_card_page_groups_its_fields_and_says_changes_apply_to_new_work(
    now, manager_client
):
    response = manager_client.get(RATE_CARD_ROW)

    sections = [(f.name, list(f.fields)) for f in response.context["adminform"]]
    assert sections == [
        ("Rates", ["hourly_rate", "after_hours_rate", "calendar", "paid_priority_surcharge"]),
        ("Invoices", ["bills_from", "payment_terms_days", "issue_after_run", "invoice_details"]),
        ("Accounting export", ["sales_account_code", "tax_type"]),
    ]
    assert "A change applies to new work only" in response.content.decode()


def test_manager_changes_the_rates_and_charges_already_posted_keep_theirs(now, manager_client):
    posted = ChargeFactory(rate=Decimal("120.00"), hours=Decimal("1.00"), amount=Decimal("120"))

    response = manager_client.post(RATE_CARD_ROW, _rate_card_form())

    assert response.status_code == 302
    card = RateCard.load()
    assert (card.hourly_rate, card.after_hours_rate) == (Decimal("160.00"), Decimal("240.00"))
    assert card.paid_priority_surcharge == Decimal("95.00")
    assert (card.payment_terms_days, card.issue_after_run) == (30, True)
    assert (card.sales_account_code, card.tax_type) == ("4000", "Tax on Sales")
    posted.refresh_from_db()
    assert posted.rate == Decimal("120.00")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hourly_rate", "-1.00", "A rate cannot be negative."),
        ("after_hours_rate", "-0.01", "A rate cannot be negative"),
        ("paid_priority_surcharge", "0.00", "The surcharge must be at least $0.01"),
        ("payment_terms_days", "400", "Payment terms are at most 365 days."),
    ],
)
def test_a_rate_out_of_range_is_a_field_error_and_nothing_is_saved(
    now, manager_client, field, value, message
):
    before = RateCard.load()

    response = manager_client.post(RATE_CARD_ROW, _rate_card_form(**{field: value}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    after = RateCard.load()
    assert (after.hourly_rate, after.tax_type) == (before.hourly_rate, before.tax_type)


def test_saving_the_rate_card_comes_back_to_it(now, manager_client):
    response = manager_client.post(RATE_CARD_ROW, _rate_card_form(), follow=True)

    assert response.redirect_chain[-1][0] == RATE_CARD_ROW
    assert any("was changed successfully" in m for m in admin_messages(response))


def test_the_rate_card_cannot_be_added_or_deleted(now, manager_client):
    RateCard.load()

    add = manager_client.get(reverse("admin:billing_ratecard_add"))
    delete = manager_client.post(
        reverse("admin:billing_ratecard_delete", args=[1]), {"post": "yes"}
    )

    assert (add.status_code, delete.status_code) == (403, 403)
    assert RateCard.objects.filter(pk=1).exists()


def test_consultant_cannot_change_the_rate_card(now, consultant_client):
    before = RateCard.load().hourly_rate

    response = consultant_client.post(RATE_CARD_ROW, _rate_card_form())

    assert response.status_code == 403
    assert RateCard.load().hourly_rate == before


# --- Billing runs and contract periods ----------------------------------------------------------
def test_the_run_list_shows_each_run_newest_first_with_money_and_who(now, manager_client):
    older = BillingRun.objects.create(
        period=dt.date(2025, 1, 1), trigger=RunTrigger.SCHEDULE, started_at=NOW - 30 * DAY
    )
    newer = billed_run(contracts=2)

    response = manager_client.get(RUNS)

    assert changelist_rows(response) == [newer, older]
    page = response.content.decode()
    assert f'{newer.pk}/change/">February 2025</a></th>' in page
    assert '<td class="field-triggered_by_name">-</td>' in page  # the schedule: nobody
    assert '<td class="field-fees">$1,000.00</td>' in page
    assert '<td class="field-overage">$0.00</td>' in page
    link = f"{PERIODS}?run__id__exact={newer.pk}"
    assert f'<td class="field-contracts"><a href="{link}">2</a></td>' in page
    assert len(changelist_rows(manager_client.get(link))) == 2


def test_runs_and_contract_periods_are_records_to_read_only(now, manager_client):
    run = billed_run()
    billed = run.contract_periods.get()

    responses = [
        manager_client.get(reverse("admin:billing_billingrun_add")),
        manager_client.post(reverse("admin:billing_billingrun_change", args=[run.pk]), {}),
        manager_client.post(
            reverse("admin:billing_billingrun_delete", args=[run.pk]), {"post": "yes"}
        ),
        manager_client.get(reverse("admin:billing_contractperiod_add")),
        manager_client.post(
            reverse("admin:billing_contractperiod_delete", args=[billed.pk]), {"post": "yes"}
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert ContractPeriod.objects.filter(pk=billed.pk, run=run).exists()


def test_contract_periods_show_the_fee_and_filter_by_month(now, manager_client):
    billed_run()

    response = manager_client.get(PERIODS, {"period": "2025-02"})

    assert len(changelist_rows(response)) == 1
    assert '<td class="field-fee_amount">$500.00</td>' in response.content.decode()
    assert changelist_rows(manager_client.get(PERIODS, {"period": "2025-01"})) == []
    assert manager_client.get(PERIODS, {"period": "1999-13"}).status_code == 302  # ?e=1


# --- Invoices ---------------------------------------------------------------------------------
def test_the_invoice_list_filters_by_kind_and_period_and_finds_by_number_or_client(
    now, manager_client
):
    acme = issued_invoice(ClientFactory(name="Acme Dental"), "300.00", "200.00")
    bluebird = issued_invoice(ClientFactory(name="Bluebird Bakery"))
    note = credit_note_issue(invoice=acme, reason="Billed twice")  # issued in March

    everything = manager_client.get(INVOICES)

    assert changelist_rows(everything) == [note, bluebird, acme]
    assert [f.title for f in everything.context["cl"].filter_specs] == ["kind", "period"]
    page = everything.content.decode()
    assert '<td class="field-total_shown">$500.00</td>' in page
    assert '<td class="field-total_shown">-$500.00</td>' in page
    by_kind = manager_client.get(INVOICES, {"kind__exact": InvoiceKind.CREDIT_NOTE})
    assert changelist_rows(by_kind) == [note]
    assert changelist_rows(manager_client.get(INVOICES, {"period": "2025-02"})) == [bluebird, acme]
    assert changelist_rows(manager_client.get(INVOICES, {"q": "bluebird"})) == [bluebird]
    assert changelist_rows(manager_client.get(INVOICES, {"q": acme.number})) == [acme]


def test_the_invoice_list_shows_which_exports_took_eachissued_invoice(now, manager_client):
    invoice = issued_invoice()
    Invoice.objects.filter(pk=invoice.pk).update(exported_to_xero_at=NOW)

    page = manager_client.get(INVOICES).content.decode()

    assert '<td class="field-xero"><img src="/static/admin/img/icon-yes.svg" alt="True">' in page
    assert '<td class="field-quickbooks"><img src="/static/admin/img/icon-no.svg"' in page


def test_an_invoice_page_is_read_only_with_its_lines_and_balance(now, manager_client):
    invoice = issued_invoice(ClientFactory(), "300.00", "200.00")
    note = credit_note_issue(
        invoice=invoice, line_ids=[invoice.lines.get(position=2).pk], reason="x"
    )

    response = manager_client.get(invoice_page(invoice))

    assert response.context["adminform"].form.fields == {}  # nothing to edit
    (lines,) = response.context["inline_admin_formsets"]
    assert [line.position for line in lines.formset.queryset] == [1, 2]
    assert not lines.has_add_permission
    assert not lines.has_change_permission
    page = response.content.decode()
    for shown in ("$500.00", "$300.00", "$200.00", "Labour", "CN-2025-00001"):
        assert shown in page
    assert '<div class="readonly">$300.00</div>' in page  # what is left to pay
    note_page = manager_client.get(invoice_page(note)).content.decode()
    assert f'<a href="{invoice_page(invoice)}">{invoice.number}</a>' in note_page


def test_invoices_cannot_be_added_changed_or_deleted_in_the_admin(now, manager_client):
    invoice = issued_invoice()

    responses = [
        manager_client.get(reverse("admin:billing_invoice_add")),
        manager_client.post(invoice_page(invoice), {"bill_to": "Someone else"}),
        manager_client.post(
            reverse("admin:billing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 3
    invoice.refresh_from_db()
    assert invoice.bill_to != "Someone else"


# A stand-in for the printable invoice page on /billing/ (its own views are built beside this
# admin): the test below needs only its name, `billing:invoice`, taking the invoice's id.
def _printable(request: Any, pk: int) -> HttpResponse:
    return HttpResponse()


urlpatterns = [
    path("admin/", admin.site.urls),
    path(
        "billing/", include(([path("invoices/<int:pk>/", _printable, name="invoice")], "billing"))
    ),
]


@pytest.mark.urls(__name__)
def test_an_invoice_page_links_to_its_printable_page_on_billing(now, manager_client):
    invoice = issued_invoice()

    response = manager_client.get(invoice_page(invoice))

    assert response.context["absolute_url"] == f"/billing/invoices/{invoice.pk}/"


# --- What a changelist costs ------------------------------------------------------------------
def _run_row(n: int) -> None:
    BillingRun.objects.create(
        period=dt.date(2024, 1 + n % 12, 1),
        trigger=RunTrigger.MANUAL,
        triggered_by=UserFactory(),
        started_at=NOW - n * DAY,
    )


def _period_row(n: int) -> None:
    billed_run()


def _invoice_row(n: int) -> None:
    invoice = issued_invoice()
    Invoice.objects.filter(pk=invoice.pk).update(exported_to_xero_at=NOW)
    if n % 3 == 0:
        credit_note_issue(invoice=invoice, reason="x")


# Queries per page, whatever the number of rows. Every admin page pays 4 for the request: the
# session, the user, the user's and the groups' permissions. Then:
#  - runs: the filtered and the total count: 2; the rows with who ran them joined: 1 (the
#    trigger filter's choices are fixed);
#  - contract periods: one count (show_full_result_count is off): 1; the rows with the
#    contract's client and plan and both charges joined: 1; the months the filter offers: 1;
#  - invoices: one count: 1; the rows with the client joined: 1; the months to filter by: 1.
EXPECTED_QUERIES = {
    RUNS: (4 + 2 + 1, _run_row),
    PERIODS: (4 + 1 + 1 + 1, _period_row),
    INVOICES: (4 + 1 + 1 + 1, _invoice_row),
}


@pytest.mark.parametrize("url", list(EXPECTED_QUERIES), ids=["runs", "periods", "invoices"])
def test_changelist_query_count_does_not_grow_with_rows(now, manager_client, url):
    expected, build_row = EXPECTED_QUERIES[url]

    (few, small), (many, large) = changelist_queries(manager_client, url, build_row)

    assert few >= 3
    assert many >= 30
    assert small == large, f"{small} queries for {few} rows, {large} for {many}"
    assert small == expected
