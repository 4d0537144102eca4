"""Conversion offers in the Django admin: offers, campaign runs, the campaign rules, and the
"Send a contract offer now" action on clients. Managers run campaigns; consultants may look at
offers and nothing more; anonymous visitors are sent to log in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client as HttpClient
from django.urls import reverse

from offers.models import CampaignSettings, ConversionOffer, OfferStatus
from tests.admin_helpers import changelist_queries
from tests.conftest import NOW
from tests.factories import (
    CampaignRunFactory,
    ClientFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
    campaign_rules,
)

pytestmark = pytest.mark.django_db

# Earlier than the real clock, so the personas' sessions (made before the move) stay valid.

OFFERS = reverse("admin:offers_conversionoffer_changelist")
RUNS = reverse("admin:offers_campaignrun_changelist")
SETTINGS = reverse("admin:offers_campaignsettings_changelist")
SETTINGS_ROW = reverse("admin:offers_campaignsettings_change", args=[1])
CLIENTS = reverse("admin:clients_client_changelist")


def _rows(response: Any) -> list[Any]:
    return list(response.context["cl"].result_list)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _actions(response: Any) -> list[str]:
    """The actions a changelist offers (none at all: no action form)."""
    form = response.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


# --- Offers -----------------------------------------------------------------------------------
def test_manager_sees_the_offers_with_filters_by_status_campaign_run_and_plan(now, manager_client):
    run = CampaignRunFactory()
    in_run = OfferFactory(campaign_run=run)
    declined = OfferFactory(status=OfferStatus.DECLINED)
    OfferFactory()

    everything = manager_client.get(OFFERS)
    by_status = manager_client.get(OFFERS, {"status__exact": OfferStatus.DECLINED})
    by_run = manager_client.get(OFFERS, {"campaign_run__id__exact": run.pk})

    assert everything.status_code == 200
    assert len(_rows(everything)) == 3
    assert _rows(by_status) == [declined]
    assert _rows(by_run) == [in_run]
    filters = [f.title for f in everything.context["cl"].filter_specs]
    assert filters == ["status", "kind", "source", "campaign run", "plan"]


def test_the_offer_list_shows_what_each_offer_would_have_saved_and_sorts_by_it(now, manager_client):
    dearer = OfferFactory(client=ClientFactory(name="Dearer"))  # paid $2,550.00, contract $3,097.20
    cheaper = OfferFactory(
        client=ClientFactory(name="Cheaper"),
        trailing_labour=Decimal("4000.00"),
        trailing_priority=Decimal("0.00"),
        trailing_spend=Decimal("4000.00"),
    )

    page = manager_client.get(OFFERS).content.decode()

    assert '<td class="field-savings_display">costs $547.20 more</td>' in page
    assert '<td class="field-savings_display">saves $902.80</td>' in page
    assert '<td class="field-price_display">$258.10 (11% off)</td>' in page
    # Sorting by the column sorts by the saving, not by what the client paid.
    column = manager_client.get(OFFERS).context["cl"].list_display.index("savings_display")
    ascending = _rows(manager_client.get(OFFERS, {"o": str(column)}))
    assert [o.pk for o in ascending] == [dearer.pk, cheaper.pk]


def _offer_row(n: int) -> None:
    # Each offer in its own run with its own plan and client: the filters list them all.
    OfferFactory(campaign_run=CampaignRunFactory())


def _run_row(n: int) -> None:
    run = CampaignRunFactory(started_at=NOW - dt.timedelta(hours=n))
    OfferFactory(campaign_run=run, status=OfferStatus.ACCEPTED)
    OfferFactory(campaign_run=run)


# Queries per page, whatever the number of rows. Every admin page pays 4 for the request: the
# session, the user, the user's and the groups' permissions. Then:
#  - offers: one count (show_full_result_count is off, so no second "of M total" count); the rows
#    with client and plan joined: 1; the campaign-run and plan filters list their choices: 2
#    (the status filter's choices are fixed); the date hierarchy reads the first and last date,
#    then the dates to offer: 2.
#  - runs: the filtered and the total count: 2; the rows with who triggered them joined and the
#    accepted offers counted in the same statement: 1.
EXPECTED_QUERIES = {
    OFFERS: (4 + 1 + 1 + 2 + 2, _offer_row),
    RUNS: (4 + 2 + 1, _run_row),
}


@pytest.mark.parametrize("url", [OFFERS, RUNS], ids=["offers", "campaign-runs"])
def test_changelist_query_count_does_not_grow_with_rows(now, manager_client, url):
    expected, build_row = EXPECTED_QUERIES[url]

    (few, small), (many, large) = changelist_queries(manager_client, url, build_row)

    assert (few, many) == (3, 30)
    assert small == large, f"{small} queries for 3 rows, {large} for 30"
    assert small == expected


def test_campaign_runs_show_how_many_offers_were_accepted(now, manager_client):
    run = CampaignRunFactory()
    OfferFactory(campaign_run=run, status=OfferStatus.ACCEPTED)
    OfferFactory(campaign_run=run, status=OfferStatus.DECLINED)
    OfferFactory(campaign_run=run)

    (row,) = _rows(manager_client.get(RUNS))

    assert row == run
    assert row.accepted_count == 1


def test_offers_and_runs_cannot_be_added_or_deleted_in_the_admin(now, manager_client):
    offer = OfferFactory(campaign_run=CampaignRunFactory())

    responses = [
        manager_client.get(reverse("admin:offers_conversionoffer_add")),
        manager_client.post(
            reverse("admin:offers_conversionoffer_delete", args=[offer.pk]), {"post": "yes"}
        ),
        manager_client.get(reverse("admin:offers_campaignrun_add")),
        manager_client.post(
            reverse("admin:offers_campaignrun_delete", args=[offer.campaign_run_id]),
            {"post": "yes"},
        ),
    ]

    assert [r.status_code for r in responses] == [403] * 4
    assert ConversionOffer.objects.filter(pk=offer.pk).exists()


def test_an_offer_page_in_the_admin_shows_the_terms_read_only_without_the_nonce(
    now, manager_client
):
    offer = OfferFactory()

    response = manager_client.get(reverse("admin:offers_conversionoffer_change", args=[offer.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    for amount in ("$290.00", "$258.10", "$2,400.00", "$150.00", "$2,550.00", "$3,097.20"):
        assert amount in page
    assert "11%" in page
    assert offer.nonce not in page  # the nonce is half of every link: it stays out of sight
    assert response.context["adminform"].form.fields == {}  # nothing editable


def test_an_accepted_offer_in_the_admin_shows_who_signed_on_which_terms_and_when_it_was_opened(
    now, manager_client
):
    offer = OfferFactory(
        status=OfferStatus.ACCEPTED,
        signer_name="Dana <Whitfield>",
        signer_role="Office manager",
        opened_at=NOW - dt.timedelta(hours=2),
        responded_at=NOW,
    )
    plan_page = reverse("admin:contracts_contractplan_change", args=[offer.plan_id])

    response = manager_client.get(reverse("admin:offers_conversionoffer_change", args=[offer.pk]))

    page = response.content.decode()
    assert "Dana &lt;Whitfield&gt;" in page
    assert "Office manager" in page
    assert f'<a href="{plan_page}#terms-version-1">version 1</a>' in page
    assert "March 10, 2025, 10 a.m." in page  # opened: noon in New York, less two hours
    assert response.context["adminform"].form.fields == {}  # all of it read-only


def test_an_offer_made_before_terms_were_versioned_shows_no_terms_in_the_admin(now, manager_client):
    offer = OfferFactory(terms=None)

    response = manager_client.get(reverse("admin:offers_conversionoffer_change", args=[offer.pk]))

    assert response.status_code == 200
    assert "#terms-version-" not in response.content.decode()


def test_consultant_can_view_offers_but_not_change_them(now, consultant_client):
    offer = OfferFactory()
    change = reverse("admin:offers_conversionoffer_change", args=[offer.pk])

    assert consultant_client.get(OFFERS).status_code == 200
    assert consultant_client.get(change).status_code == 200
    assert consultant_client.post(change, {"status": OfferStatus.ACCEPTED}).status_code == 403
    offer.refresh_from_db()
    assert offer.status == OfferStatus.SENT


@pytest.mark.parametrize("url", [RUNS, SETTINGS, SETTINGS_ROW])
def test_consultant_cannot_see_campaign_runs_or_rules(now, consultant_client, url):
    # The rules' list page too: it must refuse, not redirect to a page that then refuses.
    assert consultant_client.get(url).status_code == 403


def test_roleless_staff_cannot_see_offers(now, roleless):
    roleless.is_staff = True
    roleless.save()
    http = HttpClient()
    http.force_login(roleless)

    assert http.get(OFFERS).status_code == 403


@pytest.mark.parametrize("url", [OFFERS, RUNS, SETTINGS, SETTINGS_ROW])
def test_anonymous_visitor_is_sent_to_log_in(anon_client, url):
    response = anon_client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert f"next={url}" in response["Location"]


# --- Campaign rules ---------------------------------------------------------------------------
def test_the_campaign_rules_list_goes_straight_to_the_one_row(now, manager_client):
    CampaignSettings.objects.all().delete()  # even before anyone has saved the rules

    response = manager_client.get(SETTINGS)

    assert response.status_code == 302
    assert response["Location"] == SETTINGS_ROW
    assert manager_client.get(SETTINGS_ROW).status_code == 200
    assert CampaignSettings.objects.count() == 1


def _rules_form(**changes: Any) -> dict[str, Any]:
    form = {
        "min_trailing_spend": "750.00",
        "min_trailing_tickets": "6",
        "cooldown_days": "120",
        "max_offers_per_run": "250",
        "base_discount_percent": "4.00",
        "tenure_bonus_percent_per_year": "1.50",
        "max_discount_percent": "15.00",
        "offer_lifetime_days": "30",
        "reminder_days_before_expiry": "5",
        "max_savings_premium_percent": "2.50",
        "max_value_premium_percent": "150",
        "need_wait_hours": "6",
        "moment_offers": "",
        "discount_applies_to": "every_term",
    }
    form.update(changes)
    return form


def test_manager_edits_the_campaign_rules(now, manager_client):
    response = manager_client.post(SETTINGS_ROW, _rules_form())

    assert response.status_code == 302
    rules = CampaignSettings.load()
    assert CampaignSettings.objects.count() == 1
    assert rules.min_trailing_spend == Decimal("750.00")
    assert rules.min_trailing_tickets == 6
    assert rules.cooldown_days == 120
    assert rules.max_offers_per_run == 250
    assert rules.base_discount_percent == Decimal("4.00")
    assert rules.tenure_bonus_percent_per_year == Decimal("1.50")
    assert rules.max_discount_percent == Decimal("15.00")
    assert rules.offer_lifetime_days == 30
    assert rules.reminder_days_before_expiry == 5
    assert rules.max_savings_premium_percent == Decimal("2.50")
    assert rules.max_value_premium_percent == Decimal("150.00")
    assert rules.need_wait_hours == 6
    assert not rules.moment_offers
    assert rules.discount_applies_to == "every_term"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_offers_per_run", "0"),
        ("max_discount_percent", "101"),
        ("offer_lifetime_days", "0"),
        ("max_savings_premium_percent", "-1"),
        ("max_value_premium_percent", "1001"),
        ("need_wait_hours", "0"),
        ("discount_applies_to", "forever"),
    ],
)
def test_campaign_rules_out_of_range_are_refused(now, manager_client, field, value):
    before = CampaignSettings.load()

    response = manager_client.post(SETTINGS_ROW, _rules_form(**{field: value}))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert getattr(CampaignSettings.load(), field) == getattr(before, field)


def test_the_campaign_rules_cannot_be_added_or_deleted(now, manager_client):
    add = manager_client.get(reverse("admin:offers_campaignsettings_add"))
    delete = manager_client.post(
        reverse("admin:offers_campaignsettings_delete", args=[1]), {"post": "yes"}
    )

    assert (add.status_code, delete.status_code) == (403, 403)
    assert CampaignSettings.objects.filter(pk=1).exists()


# --- "Send a contract offer now" --------------------------------------------------------------
def _send_now(http: HttpClient, *clients: Any) -> Any:
    return http.post(
        CLIENTS,
        {"action": "send_offer_now", ACTION_CHECKBOX_NAME: [c.pk for c in clients]},
        follow=True,
    )


def test_manager_sends_an_offer_now_and_it_is_emailed(
    now, manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    assert "send_offer_now" in _actions(manager_client.get(CLIENTS))
    PlanFactory()
    campaign_rules(min_trailing_spend=Decimal("500.00"))
    client = OfferableClientFactory()  # spent nothing: the manager's call, not the threshold's

    with django_capture_on_commit_callbacks(execute=True):
        response = _send_now(manager_client, client)

    offer = ConversionOffer.objects.get()
    assert offer.client == client
    assert offer.status == OfferStatus.SENT
    assert [parseaddr(a)[1] for m in mailoutbox for a in m.to] == [client.contacts.get().email]
    assert "Offered a contract to 1 client(s); the emails are on their way." in _messages(response)
    (event,) = client.events.all()
    assert (event.kind, event.by.username) == ("offer_made", "alice")


def test_sending_an_offer_now_to_a_contract_client_warns_and_sends_nothing(
    now, manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    PlanFactory()
    on_contract = OfferableClientFactory(name="Already Covered Ltd")
    ContractFactory(client=on_contract)
    reachable = OfferableClientFactory()

    with django_capture_on_commit_callbacks(execute=True):
        response = _send_now(manager_client, on_contract, reachable)

    assert [o.client for o in ConversionOffer.objects.all()] == [reachable]
    assert len(mailoutbox) == 1
    messages = _messages(response)
    assert any(m.startswith("Already Covered Ltd cannot be offered a contract") for m in messages)
    assert "Offered a contract to 1 client(s); the emails are on their way." in messages


def test_consultant_is_not_offered_the_send_offer_action_and_cannot_run_it(
    now, consultant_client, mailoutbox, django_capture_on_commit_callbacks
):
    PlanFactory()
    client = OfferableClientFactory()

    assert "send_offer_now" not in _actions(consultant_client.get(CLIENTS))
    with django_capture_on_commit_callbacks(execute=True):
        _send_now(consultant_client, client)

    assert not ConversionOffer.objects.exists()
    assert mailoutbox == []


def test_the_campaign_run_list_shows_each_runs_conversion_and_links_to_its_offers(
    now, manager_client
):
    run = CampaignRunFactory(offers_created=4, eligible_clients=9)
    OfferFactory(campaign_run=run, status=OfferStatus.ACCEPTED)
    OfferFactory(campaign_run=run, status=OfferStatus.DECLINED)
    OfferFactory(campaign_run=run)
    OfferFactory(campaign_run=run)
    OfferFactory(campaign_run=CampaignRunFactory())  # another run's offer

    page = manager_client.get(RUNS).content.decode()

    link = f"{OFFERS}?campaign_run__id__exact={run.pk}"
    assert f'<td class="field-offers"><a href="{link}">4</a></td>' in page
    assert '<td class="field-accepted">1</td>' in page
    assert '<td class="field-declined">1</td>' in page
    assert '<td class="field-conversion">25%</td>' in page
    assert len(_rows(manager_client.get(link))) == 4


def test_an_offer_page_shows_its_year_month_by_month(now, manager_client):
    offer = OfferFactory(
        monthly=[
            {
                "month": "2025-02",
                "hours": "19.20",
                "paid": "2550.00",
                "fee": "36.40",
                "overage": "1562.00",
                "cost": "1598.40",
            }
        ]
    )

    page = manager_client.get(
        reverse("admin:offers_conversionoffer_change", args=[offer.pk])
    ).content.decode()

    assert "the year replayed, month by month" in page.lower()
    for figure in ("2025-02", "19.20", "$2,550.00", "$36.40", "$1,562.00", "$1,598.40"):
        assert f"<td>{figure}</td>" in page
