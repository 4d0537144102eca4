"""The client page in a real browser, on the demo practice: the manager and then a consultant
sign in, open the client list, search it as they type, and open a client on contract. Every
page runs under the strict Content-Security-Policy, its chart is drawn, and axe-core finds no
serious accessibility failure. With SAVE_SCREENSHOTS_TO=docs/screenshots the test refreshes the
README's pictures of the list and the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from billing.periods import Period
from clients.models import Client
from consultancy.demo import seed_demo
from contracts.models import ContractStatus
from offers.models import OfferStatus
from tests.browser.strict import assert_accessible, screenshots_dir
from tests.conftest import _ensure_roles
from tickets.models import OPEN_STATUSES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_MANAGER = ("manager", "demo-manager-2026")
DEMO_CONSULTANT = ("consultant", "demo-consultant-2026")


def _busy_contract_client() -> Client:
    """The demo client on contract with the most to show: tickets open, an offer it accepted
    (so a history of offers and events), work this month."""
    month = Period.of(timezone.localdate())
    return (
        Client.objects.filter(contracts__status=ContractStatus.ACTIVE)
        .annotate(
            open=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES), distinct=True),
            accepted=Count("offers", filter=Q(offers__status=OfferStatus.ACCEPTED), distinct=True),
            worked=Count(
                "contracts__time_entries",
                filter=Q(contracts__time_entries__work_date__gte=month.first_day),
                distinct=True,
            ),
        )
        .order_by("-open", "-accepted", "-worked", "pk")
        .first()
    )


def _sign_in(page: Any, live_server: Any, who: tuple[str, str]) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", who[0])
    page.fill("#id_password", who[1])
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _search(page: Any, term: str) -> list[str]:
    """Type `term` into the list's search as a person would; return the client names shown."""
    page.locator("#id_q").press_sequentially(term, delay=40)
    page.wait_for_url(f"**q={term}**")  # htmx pushed the search into the address
    page.wait_for_load_state("networkidle")
    return page.locator("#client-rows th a").all_inner_texts()


def test_the_manager_and_a_consultant_find_a_client_and_open_its_page(
    strict_page: Any, live_server: Any, tmp_path: Path
) -> None:
    page = strict_page
    _ensure_roles()  # an earlier transactional test's flush removed the migrations' groups
    seed_demo(clients=120, tickets=2500)
    shown = _busy_contract_client()
    term = shown.name.split()[0].lower()  # "harbor": the first word, which other names share
    shots = screenshots_dir(tmp_path)

    _sign_in(page, live_server, DEMO_MANAGER)
    page.goto(f"{live_server.url}/clients/")
    everyone = page.locator("#client-rows th a").count()
    assert everyone == 50  # a page of the 120, the rest behind "Show more"
    found = _search(page, term)
    assert shown.name in found
    assert 0 < len(found) < everyone
    # Every client found names the word, or a contact's address does.
    assert all(term in row.lower() for row in page.locator("#client-rows tr").all_inner_texts())
    page.screenshot(path=shots / "client-list.png")
    assert_accessible(page, live_server)

    page.get_by_role("link", name=shown.name, exact=True).click()
    page.wait_for_url(f"**/clients/{shown.pk}/")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == shown.name
    assert (
        page.evaluate(
            "() => [...document.querySelectorAll('#hours canvas[data-chart]')]"
            ".filter(c => Chart.getChart(c)).length"
        )
        == 1
    )
    assert page.locator("#hours meter").count() == 1
    assert page.locator("#action-renew").is_visible()
    assert page.locator("#action-cancel").is_visible()
    page.screenshot(path=shots / "client-page.png", full_page=True)
    assert_accessible(page, live_server)

    # An action is a confirmation page first; nothing changes on the way there and back.
    page.click("#action-renew")
    page.wait_for_url(f"**/clients/{shown.pk}/renew/")
    assert page.locator("#action-form input[name=confirm]").count() == 1
    page.screenshot(path=tmp_path / "client-renew.png")
    assert_accessible(page, live_server)
    page.click("text=Back to the client")
    page.wait_for_url(f"**/clients/{shown.pk}/")

    page.click("text=Sign out")
    _sign_in(page, live_server, DEMO_CONSULTANT)
    page.click("nav >> text=Clients")
    page.wait_for_url("**/clients/")
    assert shown.name in _search(page, term)
    page.get_by_role("link", name=shown.name, exact=True).click()
    page.wait_for_url(f"**/clients/{shown.pk}/")
    assert page.locator("[id^=action-]").count() == 0  # the manager's buttons only
    assert page.locator("#tickets").is_visible()
    assert_accessible(page, live_server)
