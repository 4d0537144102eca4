"""The admin's preview of the next campaign run: the dry run's facts, for managers only."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from offers.models import CampaignRun, ConversionOffer

pytestmark = pytest.mark.django_db
PREVIEW = reverse("admin:offers_campaignrun_preview")


def test_a_manager_sees_every_candidate_with_its_offer_figures_and_months(
    manager_client: Any, practice: dict[str, Any]
) -> None:
    response = manager_client.get(PREVIEW)

    assert response.status_code == 200
    page = response.content.decode()
    for kind in ("All (3)", "Savings (1)", "Value (1)", "No offer (1)"):
        assert kind in page
    # The same facts as the dry run: Acme saves 248.40 on Essentials at 8% off.
    for fact in (
        "Acme Dental",
        "$266.80/mo",
        "$5,001.60",
        "saves $248.40",
        "August 2024",
        "$1,800.00",  # the busy month's overage
        "costs $981.00 more ($81.75/mo)",
        "no need for faster service",
    ):
        assert fact in page
    # Nothing was made.
    assert not CampaignRun.objects.exists()
    assert not ConversionOffer.objects.exists()


def test_the_preview_filters_by_kind_and_ignores_a_kind_it_does_not_know(
    manager_client: Any, practice: dict[str, Any]
) -> None:
    value = manager_client.get(PREVIEW, {"kind": "value"}).content.decode()
    assert "Bolt Logistics" in value
    assert "Acme Dental" not in value

    unknown = manager_client.get(PREVIEW, {"kind": "<script>", "page": "x²"})
    assert unknown.status_code == 200
    assert "Acme Dental" in unknown.content.decode()


def test_the_preview_costs_the_same_queries_whatever_the_candidates(
    manager_client: Any, practice: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    manager_client.get(PREVIEW)  # warm the session and the permission caches
    with django_assert_max_num_queries(12):
        manager_client.get(PREVIEW)


def test_the_run_list_links_to_the_preview(manager_client: Any) -> None:
    page = manager_client.get(reverse("admin:offers_campaignrun_changelist")).content.decode()
    assert PREVIEW in page


def test_consultants_and_strangers_may_not_preview(consultant_client: Any, client: Any) -> None:
    assert consultant_client.get(PREVIEW).status_code == 403
    anonymous = client.get(PREVIEW)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]
