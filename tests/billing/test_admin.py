"""Billing in the admin: the rate card. Managers change it; consultants see none of it;
anonymous visitors are sent to log in. (The ledger's manual charges: test_charge_admin.py.)"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import RateCard
from tests.admin_helpers import admin_messages
from tests.factories import ChargeFactory

pytestmark = pytest.mark.django_db

RATE_CARD = reverse("admin:billing_ratecard_changelist")
RATE_CARD_ROW = reverse("admin:billing_ratecard_change", args=[1])


# --- Who may see what -------------------------------------------------------------------------
def _pages() -> list[str]:
    return [RATE_CARD_ROW]


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
    assert not RateCard.objects.exists()

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
        ("Invoices", ["payment_terms_days", "issue_after_run"]),
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
