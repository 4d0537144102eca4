"""A plan's running terms: fixed while contracts run on them, changed by copying the plan.

Model rule (ContractPlan.clean), the copy service (plan_copy), and the plan admin for the
manager, the consultant and an anonymous visitor.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse

from contracts.models import ContractPlan, Coverage, Priority
from contracts.services import plan_copy
from offers.models import OfferStatus
from tests.factories import (
    CalendarFactory,
    ContractFactory,
    EndedContractFactory,
    OfferFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db

PLANS = reverse("admin:contracts_contractplan_changelist")


def _change_url(plan: ContractPlan) -> str:
    return reverse("admin:contracts_contractplan_change", args=[plan.pk])


# --- The rule ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("included_hours", Decimal("20.00")),
        ("overage_hourly_rate", Decimal("150.00")),
        ("coverage", Coverage.ALWAYS),
    ],
)
def test_the_running_terms_of_a_plan_with_an_active_contract_cannot_change(field, value):
    plan = ContractFactory().plan
    setattr(plan, field, value)

    with pytest.raises(ValidationError) as error:
        plan.full_clean()

    assert field in error.value.message_dict


def test_a_plans_calendar_cannot_change_under_an_active_contract():
    plan = ContractFactory().plan
    plan.calendar = CalendarFactory(name="Night shift")

    with pytest.raises(ValidationError) as error:
        plan.full_clean()

    assert "calendar" in error.value.message_dict


def test_the_price_and_name_of_a_plan_in_use_may_change_but_not_its_term():
    # A contract keeps the price it was sold at; the term is what the offer promised.
    plan = ContractFactory().plan
    plan.name, plan.monthly_price = "Standard 2026", Decimal("590.00")
    plan.full_clean()

    plan.term_months = 24
    with pytest.raises(ValidationError) as error:
        plan.full_clean()
    assert "term_months" in error.value.message_dict


@pytest.mark.parametrize("contract", [None, "ended"])
def test_a_plan_without_running_contracts_or_open_offers_may_change_anything(contract):
    plan = PlanFactory()
    if contract:
        EndedContractFactory(plan=plan)
    plan.included_hours = Decimal("20.00")
    plan.coverage = Coverage.ALWAYS

    plan.full_clean()
    assert not plan.terms_in_use()


@pytest.mark.parametrize("status", [OfferStatus.PENDING, OfferStatus.SENT])
def test_an_open_offer_holds_the_terms_it_shows_the_client(status):
    # The offer's email and page show the plan's hours and targets: accepting must get those.
    plan = OfferFactory(status=status).plan
    plan.included_hours = Decimal("1.00")

    with pytest.raises(ValidationError) as error:
        plan.full_clean()

    assert "included_hours" in error.value.message_dict
    assert plan.terms_in_use()


@pytest.mark.parametrize("status", [OfferStatus.DECLINED, OfferStatus.EXPIRED])
def test_an_answered_or_expired_offer_holds_nothing(status):
    plan = OfferFactory(status=status).plan

    assert not plan.terms_in_use()


# --- Copying -----------------------------------------------------------------------------------
def test_copying_a_plan_copies_its_terms_and_targets_and_does_not_offer_it_yet():
    plan = PlanFactory(
        name="Standard",
        monthly_price=Decimal("490.00"),
        included_hours=Decimal("10.00"),
        coverage=Coverage.ALWAYS,
        overage_hourly_rate=Decimal("120.00"),
        term_months=6,
        targets={Priority.URGENT: (30, 240), Priority.NORMAL: (240, 2880)},
    )
    ContractFactory(plan=plan)

    copy = plan_copy(plan=plan)

    assert copy.pk != plan.pk
    assert copy.name == "Standard (new terms)"
    assert not copy.is_offered
    assert (
        copy.monthly_price,
        copy.included_hours,
        copy.coverage,
        copy.calendar_id,
        copy.overage_hourly_rate,
        copy.term_months,
    ) == (
        Decimal("490.00"),
        Decimal("10.00"),
        Coverage.ALWAYS,
        plan.calendar_id,
        Decimal("120.00"),
        6,
    )
    assert sorted(
        copy.service_levels.values_list("priority", "response_minutes", "resolution_minutes")
    ) == sorted(
        plan.service_levels.values_list("priority", "response_minutes", "resolution_minutes")
    )
    # The copy runs nothing yet, so its terms are open to change.
    assert not copy.terms_in_use()


def test_copying_twice_gives_each_copy_its_own_name():
    plan = PlanFactory(name="Standard")

    first = plan_copy(plan=plan)
    names = [first.name, plan_copy(plan=plan).name, plan_copy(plan=first).name]

    # A copy of the copy is named after the original too.
    assert names == ["Standard (new terms)", "Standard (new terms 2)", "Standard (new terms 3)"]


# --- The admin ---------------------------------------------------------------------------------
def test_manager_sees_the_running_terms_read_only_with_the_reason(manager_client):
    plan = ContractFactory().plan

    response = manager_client.get(_change_url(plan))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert set(ContractPlan.RUNNING_TERMS).isdisjoint(form.fields)
    assert {"name", "description", "monthly_price", "is_offered"} <= set(form.fields)
    assert "Active contracts run on this plan, or open offers promise its terms" in (
        response.content.decode()
    )
    (targets,) = response.context["inline_admin_formsets"]
    assert not targets.has_add_permission
    assert not targets.has_change_permission
    assert not targets.has_delete_permission


def test_a_posted_change_to_running_terms_is_ignored_and_the_rest_is_saved(manager_client):
    plan = ContractFactory(plan__name="Standard", plan__included_hours=Decimal("8.00")).plan
    levels = list(plan.service_levels.values_list("pk", "response_minutes"))
    data = {
        "name": "Standard",
        "description": "",
        "monthly_price": "550.00",
        "term_months": "12",
        "is_offered": "on",
        # Someone edits the page's HTML: these fields are not on the form and are ignored.
        "included_hours": "99.00",
        "coverage": Coverage.ALWAYS,
        "service_levels-TOTAL_FORMS": "0",
        "service_levels-INITIAL_FORMS": "0",
        "service_levels-MIN_NUM_FORMS": "0",
        "service_levels-MAX_NUM_FORMS": "1000",
    }

    response = manager_client.post(_change_url(plan), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    plan.refresh_from_db()
    assert plan.monthly_price == Decimal("550.00")
    assert plan.included_hours == Decimal("8.00")
    assert plan.coverage == Coverage.BUSINESS_HOURS
    assert list(plan.service_levels.values_list("pk", "response_minutes")) == levels


def test_manager_edits_every_term_of_a_plan_no_contract_runs_on(manager_client):
    plan = PlanFactory()

    response = manager_client.get(_change_url(plan))

    form = response.context["adminform"].form
    assert set(ContractPlan.RUNNING_TERMS) <= set(form.fields)
    assert "Active contracts run on this plan" not in response.content.decode()
    (targets,) = response.context["inline_admin_formsets"]
    assert targets.has_change_permission


def test_manager_copies_a_plan_from_the_plan_list(manager_client):
    plan = ContractFactory(plan__name="Standard").plan

    response = manager_client.post(
        PLANS, {"action": "copy_plans", ACTION_CHECKBOX_NAME: [plan.pk]}, follow=True
    )

    copy = ContractPlan.objects.get(name="Standard (new terms)")
    assert not copy.is_offered
    assert copy.service_levels.count() == plan.service_levels.count()
    messages = [str(m) for m in response.context["messages"]]
    assert any("Copied as: Standard (new terms)" in m for m in messages)


def test_consultant_cannot_copy_plans(consultant_client):
    plan = PlanFactory(name="Standard")

    consultant_client.post(PLANS, {"action": "copy_plans", ACTION_CHECKBOX_NAME: [plan.pk]})

    assert ContractPlan.objects.count() == 1


def test_anonymous_visitor_cannot_open_a_plan(anon_client):
    response = anon_client.get(_change_url(PlanFactory()))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_copy_of_a_plan_with_a_long_name_still_fits_the_name_column():
    plan = PlanFactory(name="x" * 100)

    copies = [plan_copy(plan=plan).name for _ in range(2)]

    assert copies == ["x" * 80 + " (new terms)", "x" * 80 + " (new terms 2)"]


def test_the_plan_page_asks_about_running_contracts_once(manager_client, django_assert_num_queries):
    plan = ContractFactory().plan
    url = _change_url(plan)
    manager_client.get(url)  # warm the content-type cache

    # The session and the user; the plan with its count of active contracts (asked once, not
    # for every field and inline permission); the user's and the groups' permissions; the
    # targets with their plan; the calendar shown read-only; the plan's terms versions with
    # who wrote them (read once for the form and the read-only versions alike).
    with django_assert_num_queries(8):
        response = manager_client.get(url)

    assert response.status_code == 200


def test_a_plan_that_was_ever_sold_or_offered_cannot_be_deleted_only_retired(manager_client):
    sold = EndedContractFactory().plan
    offered = OfferFactory(status=OfferStatus.EXPIRED).plan
    unused = PlanFactory()

    for plan in (sold, offered):
        page = manager_client.get(_change_url(plan)).content.decode()
        assert 'class="deletelink"' not in page
        delete = reverse("admin:contracts_contractplan_delete", args=[plan.pk])
        assert manager_client.post(delete, {"post": "yes"}).status_code == 403
    assert 'class="deletelink"' in manager_client.get(_change_url(unused)).content.decode()
    assert ContractPlan.objects.filter(pk__in=[sold.pk, offered.pk]).count() == 2


def test_the_plan_targets_read_most_urgent_first_with_the_minutes_in_words(manager_client):
    plan = PlanFactory()

    response = manager_client.get(_change_url(plan))

    (targets,) = response.context["inline_admin_formsets"]
    priorities = [form.form.instance.priority for form in targets if form.form.instance.pk]
    assert priorities == [Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW]
    # A business-hours plan: covered hours, never "days".
    assert "respond within 1 business hour, resolve within 4 business hours" in (
        response.content.decode()
    )
