"""A loyalty discount for the first term only: the renewal is at the plan's price; a discount for
every term carries over. And the plan's versioned terms: a change adds a version."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import ContractTerms, ServiceContract
from contracts.services import contract_renew, contract_start, plan_copy, plan_terms_set
from tests.factories import ClientFactory, PlanFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("first_term_only", "next_price", "next_discount"),
    [(True, "500.00", "0.00"), (False, "450.00", "10.00")],
)
def test_a_renewal_ends_a_first_term_discount_and_keeps_one_for_every_term(
    now, first_term_only, next_price, next_discount
):
    plan = PlanFactory(monthly_price=Decimal("500.00"))
    contract = contract_start(
        client=ClientFactory(),
        plan=plan,
        discount_percent=Decimal("10.00"),
        discount_first_term_only=first_term_only,
    )
    assert contract.monthly_price == Decimal("450.00")
    assert contract.renewal_price == Decimal(next_price)

    renewed = contract_renew(contract=contract)

    assert renewed.monthly_price == Decimal(next_price)
    assert renewed.discount_percent == Decimal(next_discount)
    assert not renewed.discount_first_term_only
    # And the term after that keeps the renewed price.
    assert contract_renew(contract=renewed).monthly_price == Decimal(next_price)


def test_a_first_term_discount_renews_at_the_plans_price_of_the_day(now):
    plan = PlanFactory(monthly_price=Decimal("500.00"))
    contract = contract_start(
        client=ClientFactory(),
        plan=plan,
        discount_percent=Decimal("10.00"),
        discount_first_term_only=True,
    )
    plan.monthly_price = Decimal("520.00")
    plan.save()

    assert contract_renew(contract=contract).monthly_price == Decimal("520.00")


def test_changing_a_plans_terms_adds_a_version_and_the_same_terms_add_none(manager):
    plan = PlanFactory()
    first = plan.current_terms()
    assert first is not None
    assert first.version == 1

    same = plan_terms_set(plan=plan, summary=first.summary, text=first.text, by=manager)
    changed = plan_terms_set(plan=plan, summary="New summary", text="New text", by=manager)

    assert same == first
    assert (changed.version, changed.summary, changed.created_by) == (2, "New summary", manager)
    assert plan.current_terms() == changed
    first.refresh_from_db()
    assert first.text != "New text"  # earlier versions stay as they were
    assert list(ContractTerms.objects.latest_per_plan().filter(plan=plan)) == [changed]


def test_a_copied_plan_starts_with_the_current_terms_as_its_first_version(now):
    plan = PlanFactory()
    plan_terms_set(plan=plan, summary="Our summary", text="Our text")

    copy = plan_copy(plan=plan)

    terms = copy.current_terms()
    assert terms is not None
    assert (terms.version, terms.summary, terms.text) == (1, "Our summary", "Our text")


def test_the_contract_page_says_the_price_of_the_next_term(manager_client, now):
    plan = PlanFactory(monthly_price=Decimal("500.00"))
    contract = contract_start(
        client=ClientFactory(),
        plan=plan,
        discount_percent=Decimal("10.00"),
        discount_first_term_only=True,
    )

    page = manager_client.get(
        reverse("admin:contracts_servicecontract_change", args=[contract.pk])
    ).content.decode()

    assert "$450.00 (10% off)" in page
    assert "$500.00 a month: the plan&#x27;s price, as the first-term discount ends" in page


def test_a_manager_can_start_a_contract_whose_discount_is_for_the_first_term(manager_client, now):
    client, plan = ClientFactory(), PlanFactory(monthly_price=Decimal("500.00"))

    manager_client.post(
        reverse("admin:contracts_servicecontract_add"),
        {
            "client": client.pk,
            "plan": plan.pk,
            "starts_on": "2025-03-10",
            "discount_percent": "10",
            "discount_first_term_only": "on",
            "renewal": "automatic",
        },
    )

    contract = ServiceContract.objects.get(client=client)
    assert contract.discount_first_term_only
    assert contract.renewal_price == Decimal("500.00")
