"""Who may open the insights, and what a bad window answers."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

pytestmark = pytest.mark.django_db

DASHBOARD = "/insights/"


def test_manager_sees_the_dashboard(manager_client: HttpClient) -> None:
    response = manager_client.get(DASHBOARD)
    assert response.status_code == 200
    assert b"Insights:" in response.content


def test_consultant_is_refused(consultant_client: HttpClient) -> None:
    assert consultant_client.get(DASHBOARD).status_code == 403


def test_anonymous_gets_the_login_page(anon_client: HttpClient) -> None:
    response = anon_client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_manager_lands_on_the_insights(manager_client: HttpClient) -> None:
    response = manager_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("to=2026-13", "2026-13"),
        ("to=%C2%B2", "is not a month like"),
        ("to=1999-12", "or later"),
        ("to=2999-01", "has not begun"),
        ("months=7", "Select a valid choice"),
        ("months=%C2%B2", "Select a valid choice"),
    ],
)
def test_a_bad_window_is_answered_with_the_reason(
    manager_client: HttpClient, query: str, said: str
) -> None:
    response = manager_client.get(f"{DASHBOARD}?{query}")
    assert response.status_code == 400
    assert said in response.content.decode()
    assert "Showing the last 12 months instead." in response.content.decode()


def test_csv_of_an_unknown_section_is_not_found(manager_client: HttpClient) -> None:
    assert manager_client.get("/insights/csv/nothing/here.csv").status_code == 404


def test_csv_with_a_bad_window_says_why(manager_client: HttpClient) -> None:
    from insights.sections import SECTIONS

    if not SECTIONS:
        pytest.skip("no section registered yet")
    slug = next(iter(SECTIONS))
    response = manager_client.get(f"/insights/csv/{slug}/any.csv?to=2026-13")
    assert response.status_code == 400
