"""The audit trail (clients.audit): a change to a plan, a target, a contract, the campaign rules,
the rate card, an offer or a user is recorded with who made it, when, why and what it changed,
and shown on the object's History page in the admin to whoever may see the object.

Alice (manager) changes things; Bob (consultant) reads what his role lets him read; an
anonymous visitor is sent to log in.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultancy.roles import MANAGERS
from contracts.models import ContractPlan, RenewalMode, ServiceContract, ServiceLevel
from contracts.services import contract_cancel, contract_renew, contracts_roll_over, plan_copy
from offers.models import CampaignSettings, ConversionOffer, OfferStatus
from offers.services import offer_accept
from tests.conftest import SIGNER, TODAY
from tests.factories import ContractFactory, OfferFactory, PlanFactory

pytestmark = pytest.mark.django_db


def _url(obj: Any, view: str = "change") -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def _value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(getattr(v, "pk", v)) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(getattr(value, "pk", value))


def page_form(response: Any, **changes: Any) -> dict[str, Any]:
    """The admin change page as a person submits it untouched (its inlines too), then
    `changes` (False unticks a box)."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    forms = [(form, form.fields)]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        initial = len(formset.initial_forms)
        data |= {
            f"{formset.prefix}-TOTAL_FORMS": str(initial),
            f"{formset.prefix}-INITIAL_FORMS": str(initial),
            f"{formset.prefix}-MIN_NUM_FORMS": "0",
            f"{formset.prefix}-MAX_NUM_FORMS": "1000",
        }
        forms += [(f, f.fields) for f in formset.initial_forms]
    for each, fields in forms:
        for name, field in fields.items():
            if field.disabled:
                continue
            key, value = each.add_prefix(name), each[name].value()
            if hasattr(field.widget, "widgets"):  # a split date and time
                parts = field.widget.decompress(value)
                data |= {f"{key}_{i}": _value(part) for i, part in enumerate(parts)}
            elif value is True:
                data[key] = "on"
            elif value is not False:
                data[key] = _value(value)
    for key, value in changes.items():
        if value is False:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def change_in_admin(http: HttpClient, obj: Any, **changes: Any) -> None:
    url = _url(obj)
    response = http.post(url, page_form(http.get(url), **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors


def latest(obj: Any) -> Any:
    return obj.history.order_by("-history_date", "-history_id").first()


def before(record: Any) -> Any:
    # By id: the tests' clock stands still, so entries share their moment.
    older = type(record).objects.filter(history_id__lt=record.history_id)
    return older.filter(id=record.id).order_by("-history_id").first()


def changed_fields(record: Any) -> dict[str, tuple[Any, Any]]:
    previous = before(record)
    assert previous is not None
    return {c.field: (c.old, c.new) for c in record.diff_against(previous).changes}


def history_page(http: HttpClient, obj: Any) -> str:
    response = http.get(_url(obj, "history"))
    assert response.status_code == 200
    return response.content.decode()


# --- What a manager changes in the admin -------------------------------------------------------
def test_a_new_plan_price_is_recorded_with_who_and_shown_on_the_history_page(
    now, manager, manager_client
):
    plan = PlanFactory(name="Essentials", monthly_price=Decimal("500.00"))

    change_in_admin(manager_client, plan, monthly_price="550.00")

    record = latest(plan)
    assert (record.history_user, record.history_date) == (manager, now)
    assert changed_fields(record) == {"monthly_price": (Decimal("500.00"), Decimal("550.00"))}
    page = history_page(manager_client, plan)
    assert "Monthly price" in page or "monthly price" in page
    assert "500.00 &rarr; 550.00" in page.replace("\u2192", "&rarr;")
    assert "alice" in page


def test_a_target_changed_on_the_plan_page_is_on_the_plans_history_page(
    now, manager, manager_client
):
    plan = PlanFactory(name="Essentials")
    urgent = plan.service_levels.get(priority="urgent")
    url = _url(plan)
    data = page_form(manager_client.get(url))
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.endswith("-id") and value == str(urgent.pk)
    )
    data[f"service_levels-{index}-response_minutes"] = "45"

    response = manager_client.post(url, data)

    assert response.status_code == 302
    record = latest(urgent)
    assert record.history_user == manager
    assert changed_fields(record) == {"response_minutes": (urgent.response_minutes, 45)}
    page = history_page(manager_client, plan)
    assert "Response and resolution targets" in page
    assert f"{urgent.response_minutes} &rarr; 45" in page


def test_a_contracts_renewal_mode_changed_in_the_admin_is_recorded(now, manager, manager_client):
    contract = ContractFactory(renewal=RenewalMode.AUTOMATIC)

    change_in_admin(manager_client, contract, renewal=RenewalMode.MANUAL)

    record = latest(contract)
    assert record.history_user == manager
    assert changed_fields(record) == {"renewal": (RenewalMode.AUTOMATIC, RenewalMode.MANUAL)}
    assert "automatic &rarr; manual" in history_page(manager_client, contract)


def test_the_campaign_rules_changed_in_the_admin_are_recorded(now, manager, manager_client):
    rules = CampaignSettings.load()
    before = rules.cooldown_days

    change_in_admin(manager_client, rules, cooldown_days="120")

    record = latest(rules)
    assert record.history_user == manager
    assert changed_fields(record) == {"cooldown_days": (before, 120)}
    assert f"{before} &rarr; 120" in history_page(manager_client, rules)


def test_a_rate_card_saved_before_the_audit_gets_its_old_rates_recorded_before_the_change(
    now, manager, manager_client, rate_card
):
    # The row came from a migration, with no history: the change is shown against it all the
    # same, the earlier state attributed to nobody.
    old_rate = rate_card.hourly_rate
    assert not rate_card.history.exists()

    change_in_admin(manager_client, rate_card, hourly_rate="175.00")

    record = latest(rate_card)
    assert record.history_user == manager
    assert changed_fields(record) == {"hourly_rate": (old_rate, Decimal("175.00"))}
    assert before(record).history_user is None
    page = history_page(manager_client, rate_card)
    assert "175.00" in page
    assert "the system or the client" in page


def test_an_offer_withdrawn_in_the_admin_records_who_and_why(now, manager, manager_client):
    offer = OfferFactory()

    response = manager_client.post(
        reverse("admin:offers_conversionoffer_changelist"),
        {
            "action": "withdraw_offers",
            "_selected_action": [offer.pk],
            "confirm": "yes",
            "reason": "Sent to the wrong person",
        },
    )

    assert response.status_code == 302
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    record = latest(offer)
    assert record.history_user == manager
    assert record.history_change_reason == "Withdrawn: Sent to the wrong person"
    assert changed_fields(record) == {
        "status": (OfferStatus.SENT, OfferStatus.WITHDRAWN),
        "responded_at": (None, now),
    }
    page = history_page(manager_client, offer)
    assert "Withdrawn: Sent to the wrong person" in page
    assert "sent &rarr; withdrawn" in page


def test_an_answered_offer_cannot_be_withdrawn(now, manager_client):
    offer = OfferFactory(status=OfferStatus.DECLINED)

    manager_client.post(
        reverse("admin:offers_conversionoffer_changelist"),
        {"action": "withdraw_offers", "_selected_action": [offer.pk], "confirm": "yes"},
    )

    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED


def test_a_users_new_group_is_recorded_and_managers_see_it(
    now, manager, manager_client, consultant, other_consultant, password
):
    # Managers may only view staff accounts; whoever holds the keys (a superuser) changes them.
    owner = User.objects.create_superuser("owner", "owner@practice.example", password)
    http = HttpClient()
    http.force_login(owner)

    change_in_admin(http, consultant, groups=[str(Group.objects.get(name=MANAGERS).pk)])

    consultant.refresh_from_db()
    assert [g.name for g in consultant.groups.all()] == [MANAGERS]
    record = latest(consultant)
    assert record.history_user == owner
    assert [g.group.name for g in record.groups.all()] == [MANAGERS]
    page = history_page(manager_client, consultant)
    assert "owner" in page
    assert "Managers" in page
    carol = HttpClient()
    carol.force_login(other_consultant)
    assert carol.get(_url(consultant, "history")).status_code == 403


def test_signing_in_adds_no_entry_to_a_users_history(manager, password):
    entries = manager.history.count()

    # Through the login page: axes needs the request that Client.login() does not pass.
    response = HttpClient().post(
        "/accounts/login/", {"username": manager.username, "password": password}
    )
    assert response.status_code == 302

    assert manager.history.count() == entries


def test_no_password_hash_is_kept_in_a_users_history(manager):
    assert "password" not in {f.name for f in type(latest(manager))._meta.fields}


# --- What a service records --------------------------------------------------------------------
def test_a_renewal_and_a_cancellation_record_the_actor_the_service_was_given(now, manager):
    contract = ContractFactory()

    renewed = contract_renew(contract=contract, by=manager)
    contract_cancel(contract=renewed, reason="Moving to another provider", by=manager)

    ended = latest(contract)
    assert (ended.history_user, ended.history_change_reason) == (
        manager,
        "Renewed for another term",
    )
    cancelled = latest(renewed)
    assert (cancelled.history_user, cancelled.history_change_reason) == (
        manager,
        "Moving to another provider",
    )
    assert renewed.history.earliest("history_date").history_user == manager


def test_a_scheduled_task_is_recorded_as_nobody(now):
    contract = ContractFactory(ends_on=TODAY - dt.timedelta(days=1), renewal=RenewalMode.MANUAL)

    contracts_roll_over(today=TODAY)

    record = latest(contract)
    assert record.history_user is None
    assert changed_fields(record)["status"] == ("active", "ended")


def test_an_offer_the_client_accepts_is_the_clients_act_even_in_a_staff_members_browser(
    now, manager
):
    offer = OfferFactory()

    offer_accept(offer=offer, ip="203.0.113.9", user_agent="Firefox", **SIGNER)

    accepted = ConversionOffer.history.filter(id=offer.pk, status=OfferStatus.ACCEPTED)
    record = accepted.earliest("history_date")
    assert record.history_user is None
    assert record.history_change_reason == "Accepted by Dana Whitfield, Office manager"
    contract = ServiceContract.objects.get(offer=offer)
    assert latest(contract).history_change_reason == "Started from the offer the client accepted"


# --- Who may read it, and what it cannot do ------------------------------------------------------
def test_consultants_read_the_history_of_what_they_may_view_and_nothing_else(
    now, consultant_client, rate_card
):
    plan = PlanFactory()

    assert consultant_client.get(_url(plan, "history")).status_code == 200
    assert consultant_client.get(_url(rate_card, "history")).status_code == 403
    assert consultant_client.get(_url(CampaignSettings.load(), "history")).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(anon_client):
    plan = PlanFactory()

    response = anon_client.get(_url(plan, "history"))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_old_version_is_shown_but_never_restored(now, manager_client, consultant_client):
    plan = PlanFactory(monthly_price=Decimal("500.00"))
    change_in_admin(manager_client, plan, monthly_price="550.00")
    first = plan.history.earliest("history_date")
    url = reverse("admin:contracts_contractplan_simple_history", args=[plan.pk, first.pk])

    page = manager_client.get(url)
    old_form = page_form(manager_client.get(_url(plan)), monthly_price="500.00")
    posts = [http.post(url, old_form) for http in (manager_client, consultant_client)]

    assert page.status_code == 200
    assert "Revert" not in page.content.decode()
    assert [p.status_code for p in posts] == [403, 403]
    assert ContractPlan.objects.get(pk=plan.pk).monthly_price == Decimal("550.00")


@pytest.mark.parametrize("object_id", ["x", "²", "-1", "99999999999999999999999", "0"])
def test_a_history_page_of_a_hostile_id_is_not_found(manager_client, object_id):
    response = manager_client.get(f"/admin/contracts/contractplan/{object_id}/history/")

    assert response.status_code == 404


def test_a_version_page_of_a_hostile_version_is_not_found(manager_client):
    plan = PlanFactory()
    base = f"/admin/contracts/contractplan/{plan.pk}/history/"

    assert manager_client.get(base + "99999999999999999999999/").status_code == 404
    assert manager_client.get(base + "12345/").status_code == 404


def test_a_history_page_costs_the_same_queries_however_long_the_history(now, manager_client):
    # The entries' authors are joined and the plan's calendar (a foreign key in the diffs)
    # prefetched, so the page makes the same queries for 3 changes as for 30.
    plan = PlanFactory()
    level = plan.service_levels.first()
    assert level is not None
    counts = []
    for changes in (3, 30):
        while plan.history.count() < changes:
            plan.monthly_price += 1
            plan.save()
            level.response_minutes += 1
            level.save()
        with CaptureQueriesContext(connection) as queries:
            history_page(manager_client, plan)
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_a_new_target_made_by_copying_a_plan_has_its_history(now, manager):
    plan = PlanFactory()

    copy = plan_copy(plan=plan)

    assert ServiceLevel.history.filter(plan_id=copy.pk).count() == plan.service_levels.count()
