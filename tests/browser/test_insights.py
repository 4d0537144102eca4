"""A manager's morning with the insights, in a real browser, on the demo practice: sign in and
land on the dashboard, read every section (each chart drawn beside its table), narrow the
window, download a table, follow a missed promise to its tickets, and open the renewals and
drop candidates. Every page runs under the strict Content-Security-Policy and axe-core finds
no serious accessibility failure. With SAVE_SCREENSHOTS_TO=docs/screenshots the test refreshes
the README's pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from consultancy.demo import seed_demo
from insights.sections import SECTIONS
from tests.browser.strict import assert_accessible, screenshots_dir, sign_in
from tests.conftest import _ensure_roles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_MANAGER = ("manager", "demo-manager-2026")


def _charts_drawn(page: Any, scope: str) -> int:
    """How many canvases in `scope` Chart.js has drawn a chart on."""
    return int(
        page.evaluate(
            "scope => [...document.querySelectorAll(scope + ' canvas[data-chart]')]"
            ".filter(c => Chart.getChart(c)).length",
            scope,
        )
    )


def test_a_manager_reads_the_insights_of_the_demo_practice(
    strict_page: Any, live_server: Any, tmp_path: Path
) -> None:
    _ensure_roles()  # an earlier transactional test's flush removed the migrations' groups
    seed_demo(clients=120, tickets=2500)
    page, shots = strict_page, screenshots_dir(tmp_path)

    sign_in(page, live_server, *DEMO_MANAGER, lands_on="/insights/")  # a manager's day starts here
    page.wait_for_load_state("networkidle")

    for slug in SECTIONS:
        section = page.locator(f"section#{slug}")
        assert section.is_visible(), slug
        tables = section.locator("table")
        assert tables.count() >= 1, slug
        # Every chart stands beside a table of the same numbers, and every table downloads.
        assert section.locator("canvas[data-chart]").count() == _charts_drawn(page, f"#{slug}")
        assert section.locator("a[download]").count() == tables.count(), slug
    assert _charts_drawn(page, "main") >= len(SECTIONS)
    page.screenshot(path=shots / "insights-dashboard.png")
    for slug in ("revenue", "conversion", "promises"):
        page.locator(f"section#{slug}").screenshot(path=shots / f"insights-{slug}.png")
    assert_accessible(page, live_server)

    # The window: six months, and the heading says which.
    page.select_option("#id_months", "6")
    page.click("#window-picker button[type=submit]")
    page.wait_for_url("**months=6**")
    assert page.locator("#revenue table").first.locator("tbody tr").count() == 6

    with page.expect_download() as download:
        page.locator("#figure-revenue-mrr a[download]").click()
    saved = download.value.path().read_text()
    assert saved.splitlines()[0] == "Month,Booked,Committed,Contracts in force"
    assert len(saved.splitlines()) == 7  # the heading and six months

    # A missed promise is a click away from its tickets.
    missed = page.locator("section#promises a[href*='/insights/promises/missed/']").first
    missed.click()
    page.wait_for_url("**/insights/promises/missed/**")
    assert page.locator("table tbody tr").count() >= 1
    page.screenshot(path=shots / "insights-missed.png")
    assert_accessible(page, live_server)

    page.goto(f"{live_server.url}/insights/")
    page.click(".insights-tabs >> text=Renewals")
    page.wait_for_url("**/insights/renewals/")
    page.screenshot(path=shots / "insights-renewals.png", full_page=True)
    assert_accessible(page, live_server)

    page.click(".insights-tabs >> text=Drop candidates")
    page.wait_for_url("**/insights/drops/")
    page.screenshot(path=shots / "insights-drops.png", full_page=True)
    assert_accessible(page, live_server)
