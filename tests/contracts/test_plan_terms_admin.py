"""A plan's contract terms in the admin: the plan page shows its current terms as two fields (in
short, in full); saving different ones adds a version through plan_terms_set, and earlier
versions are listed read-only. A new plan starts with the standard terms for its figures.

The manager edits; the consultant reads; an anonymous visitor is sent to log in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from contracts.models import ContractPlan, ContractTerms, Coverage
from contracts.services import plan_terms_set
from contracts.terms import standard_terms_of
from tests.factories import CalendarFactory, ContractFactory, OfferFactory, PlanFactory

pytestmark = pytest.mark.django_db

ADD = reverse("admin:contracts_contractplan_add")
NO_TARGETS = {
    "service_levels-TOTAL_FORMS": "0",
    "service_levels-INITIAL_FORMS": "0",
    "service_levels-MIN_NUM_FORMS": "0",
    "service_levels-MAX_NUM_FORMS": "1000",
}


def _change_url(plan: ContractPlan) -> str:
    return reverse("admin:contracts_contractplan_change", args=[plan.pk])


def _plan_form(plan: ContractPlan, **changes: Any) -> dict[str, Any]:
    """The plan's page as the manager submits it: every field as it is, terms included, then
    `changes`. Line breaks come as a browser sends them (CRLF)."""
    current = plan.current_terms()
    data = {
        "name": plan.name,
        "description": plan.description,
        "monthly_price": str(plan.monthly_price),
        "included_hours": str(plan.included_hours),
        "coverage": plan.coverage,
        "calendar": str(plan.calendar_id),
        "overage_hourly_rate": str(plan.overage_hourly_rate),
        "term_months": str(plan.term_months),
        "is_offered": "on" if plan.is_offered else "",
        "terms_summary": current.summary.replace("\n", "\r\n") if current else "",
        "terms_text": current.text.replace("\n", "\r\n") if current else "",
        **NO_TARGETS,
    }
    data.update(changes)
    return data


def _versions(plan: ContractPlan) -> list[tuple[int, str]]:
    return list(plan.terms_versions.order_by("version").values_list("version", "summary"))


# --- The manager -------------------------------------------------------------------------------
def test_the_plan_page_shows_the_current_terms_to_edit_and_the_earlier_ones_to_read(
    now, manager, manager_client
):
    plan = PlanFactory(name="Essentials")
    plan_terms_set(plan=plan, summary="Second summary.", text="Second <b>terms</b>.", by=manager)

    response = manager_client.get(_change_url(plan))

    form = response.context["adminform"].form
    assert form.initial["terms_summary"] == "Second summary."
    assert form.initial["terms_text"] == "Second <b>terms</b>."
    page = response.content.decode()
    assert '<span id="terms-version-2">Version 2, of 10 March 2025, by Alice</span>' in page
    # Version 1, read-only, escaped, with an anchor an offer's link can land on.
    assert '<span id="terms-version-1">Version 1, of 10 March 2025</span>' in page
    standard_summary = standard_terms_of(plan)[0]
    assert f"<strong>In short:</strong> {standard_summary}" in page
    assert "Second &lt;b&gt;terms&lt;/b&gt;.</textarea>" in page


def test_changing_the_terms_adds_a_version_and_offers_keep_theirs(now, manager, manager_client):
    offer = OfferFactory()
    plan = offer.plan

    response = manager_client.post(
        _change_url(plan),
        _plan_form(plan, terms_summary="Shorter hours.", terms_text="1. New.\r\n\r\n2. Newer."),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = plan.current_terms()
    assert (latest.version, latest.summary, latest.text) == (
        2,
        "Shorter hours.",
        "1. New.\n\n2. Newer.",
    )
    assert latest.created_by == manager
    offer.refresh_from_db()
    assert offer.terms.version == 1


def test_saving_the_plan_with_its_terms_unchanged_adds_no_version(now, manager_client):
    plan = PlanFactory()
    plan_terms_set(plan=plan, summary="Custom.", text="Line one.\nLine two.")

    response = manager_client.post(_change_url(plan), _plan_form(plan, description="New words"))

    assert response.status_code == 302
    assert [v for v, _ in _versions(plan)] == [1, 2]


def test_a_new_plan_with_its_terms_left_blank_gets_the_standard_terms_of_its_figures(
    now, manager, manager_client
):
    calendar = CalendarFactory()
    data = {
        "name": "Premium",
        "description": "",
        "monthly_price": "990.00",
        "included_hours": "20",
        "coverage": Coverage.ALWAYS,
        "calendar": str(calendar.pk),
        "overage_hourly_rate": "95.00",
        "term_months": "6",
        "terms_summary": "",
        "terms_text": "",
        **NO_TARGETS,
        "service_levels-TOTAL_FORMS": "1",
        "service_levels-0-priority": "urgent",
        "service_levels-0-response_minutes": "30",
        "service_levels-0-resolution_minutes": "240",
    }

    page = manager_client.get(ADD).content.decode()
    response = manager_client.post(ADD, data)

    assert "Leave both blank for the practice's standard terms" in page
    assert response.status_code == 302, response.context["adminform"].form.errors
    plan = ContractPlan.objects.get(name="Premium")
    (terms,) = plan.terms_versions.all()
    assert (terms.version, terms.summary, terms.text) == (1, *standard_terms_of(plan))
    assert "6-month service contract" in terms.summary
    assert "$95.00 an hour" in terms.summary
    assert terms.created_by == manager


def test_a_new_plan_may_start_with_terms_of_its_own(now, manager_client):
    calendar = CalendarFactory()
    data = {
        "name": "Bespoke",
        "monthly_price": "500.00",
        "included_hours": "8",
        "coverage": Coverage.BUSINESS_HOURS,
        "calendar": str(calendar.pk),
        "overage_hourly_rate": "110.00",
        "term_months": "12",
        "terms_summary": "Bespoke in short.",
        "terms_text": "Bespoke in full.",
        **NO_TARGETS,
        "service_levels-TOTAL_FORMS": "1",
        "service_levels-0-priority": "urgent",
        "service_levels-0-response_minutes": "30",
        "service_levels-0-resolution_minutes": "240",
    }

    response = manager_client.post(ADD, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _versions(ContractPlan.objects.get(name="Bespoke")) == [(1, "Bespoke in short.")]


@pytest.mark.parametrize(
    "terms",
    [{"terms_summary": "", "terms_text": "Only in full."}, {"terms_text": ""}],
    ids=["summary-missing", "text-missing"],
)
def test_half_the_terms_is_refused_and_nothing_is_saved(now, manager_client, terms):
    plan = PlanFactory(description="Before")

    response = manager_client.post(
        _change_url(plan), _plan_form(plan, description="After", **terms)
    )

    assert response.status_code == 200
    assert "Give both the terms in short and in full" in response.content.decode()
    plan.refresh_from_db()
    assert plan.description == "Before"
    assert [v for v, _ in _versions(plan)] == [1]


def test_a_summary_longer_than_the_column_is_refused(now, manager_client):
    plan = PlanFactory()

    response = manager_client.post(_change_url(plan), _plan_form(plan, terms_summary="x" * 1001))

    assert response.status_code == 200
    assert "terms_summary" in response.context["adminform"].form.errors
    assert [v for v, _ in _versions(plan)] == [1]


def test_standard_terms_follow_the_plans_figures_when_they_change(now, manager_client):
    plan = PlanFactory(overage_hourly_rate=Decimal("110.00"))

    # The manager leaves the terms as they are and changes the overage rate.
    manager_client.post(_change_url(plan), _plan_form(plan, overage_hourly_rate="125.00"))

    latest = plan.current_terms()
    assert latest.version == 2
    assert "$125.00 an hour" in latest.summary
    assert "$110.00" not in latest.text


def test_terms_of_its_own_do_not_change_with_the_plans_figures(now, manager_client):
    plan = PlanFactory(overage_hourly_rate=Decimal("110.00"))
    plan_terms_set(plan=plan, summary="Ours, $110.00 an hour.", text="Ours in full.")

    manager_client.post(_change_url(plan), _plan_form(plan, overage_hourly_rate="125.00"))

    plan.refresh_from_db()
    assert plan.overage_hourly_rate == Decimal("125.00")
    assert _versions(plan)[-1] == (2, "Ours, $110.00 an hour.")


def test_the_terms_of_a_plan_in_use_can_change_while_its_running_terms_stay_fixed(
    now, manager_client
):
    plan = ContractFactory().plan

    response = manager_client.post(
        _change_url(plan),
        _plan_form(
            plan, terms_summary="Revised.", terms_text="Revised in full.", included_hours="99"
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    plan.refresh_from_db()
    assert plan.included_hours == Decimal("8.00")
    assert _versions(plan)[-1] == (2, "Revised.")
    assert (
        "Saving changed terms adds a new version"
        in manager_client.get(_change_url(plan)).content.decode()
    )


def test_a_plan_without_terms_is_given_its_standard_ones_when_saved(now, manager_client):
    # Plans made outside the admin (a benchmark, an old script) may have none.
    plan = PlanFactory()
    ContractTerms.objects.filter(plan=plan).delete()

    page = manager_client.get(_change_url(plan))
    manager_client.post(_change_url(plan), _plan_form(plan))

    assert page.context["adminform"].form.initial["terms_summary"] == standard_terms_of(plan)[0]
    assert "None yet: saving the plan gives it its standard terms." in page.content.decode()
    assert _versions(plan) == [(1, standard_terms_of(plan)[0])]


# --- The consultant and the anonymous visitor --------------------------------------------------
def test_the_consultant_reads_the_terms_and_their_versions_but_edits_nothing(
    now, consultant_client
):
    plan = PlanFactory()
    plan_terms_set(plan=plan, summary="Second summary.", text="Second\nterms.")

    response = consultant_client.get(_change_url(plan))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="terms_summary"' not in page
    assert "Second summary." in page
    assert "Second<br>terms." in page
    assert "Version 1, of 10 March 2025" in page
    assert consultant_client.post(_change_url(plan), _plan_form(plan)).status_code == 403
    assert [v for v, _ in _versions(plan)] == [1, 2]


def test_an_anonymous_visitor_is_sent_to_log_in(anon_client):
    response = anon_client.post(ADD, {"terms_summary": "x", "terms_text": "y"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not ContractTerms.objects.exists()
