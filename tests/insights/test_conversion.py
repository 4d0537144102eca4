"""The conversion funnel, against figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient

from billing.periods import Period
from clients.figures import Money, Percent
from insights.conversion import build, median_days
from insights.window import Window
from offers.models import CampaignRun, ConversionOffer, OfferKind, OfferSource, OfferStatus
from tests.conftest import DAY, NOW
from tests.factories import CampaignRunFactory, OfferFactory, PendingOfferFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# The window: the 12 months April 2024 to March 2025 (the clock is at 10 March 2025).
WINDOW = Window(Period(2025, 3))


def at(month: int, day: int, hour: int = 15, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=UTC)


def offer(
    *,
    sent: dt.datetime,
    status: str = OfferStatus.SENT,
    run: CampaignRun | None = None,
    kind: str = OfferKind.SAVINGS,
    source: str = OfferSource.CAMPAIGN,
    opened: bool = False,
    answered_after: dt.timedelta | None = None,
    price: str = "258.10",
) -> ConversionOffer:
    return OfferFactory(
        campaign_run=run,
        status=status,
        kind=kind,
        source=source,
        created_at=sent,
        sent_at=sent,
        opened_at=sent + dt.timedelta(hours=2) if opened else None,
        responded_at=sent + answered_after if answered_after else None,
        monthly_price=Decimal(price),
    )


@pytest.fixture
def funnel_data(now: dt.datetime) -> dict[str, Any]:
    """Two runs in the window, one before it, a moment-of-need offer, and offers not counted."""
    run = CampaignRunFactory(started_at=at(2, 1))  # 10:00 in New York
    offer(
        sent=at(2, 1),
        run=run,
        opened=True,
        status=OfferStatus.ACCEPTED,
        answered_after=4 * DAY,
        price="250.00",
    )
    offer(sent=at(2, 1), run=run, opened=True, status=OfferStatus.DECLINED, answered_after=DAY)
    offer(sent=at(2, 1), run=run, kind=OfferKind.VALUE, status=OfferStatus.EXPIRED)
    offer(
        sent=at(2, 10),
        kind=OfferKind.VALUE,
        source=OfferSource.MOMENT,
        opened=True,
        status=OfferStatus.ACCEPTED,
        answered_after=2 * DAY,
        price="400.00",
    )
    later = CampaignRunFactory(started_at=at(3, 1))  # 10:00 in New York
    offer(sent=at(3, 1), run=later, opened=True)  # still open: offered and opened only
    # Not counted: an offer never sent, and a run (with an accepted offer) before the window.
    PendingOfferFactory(campaign_run=later, created_at=at(3, 1))
    before = CampaignRunFactory(started_at=at(3, 1, year=2024))
    offer(
        sent=at(3, 1, year=2024),
        run=before,
        status=OfferStatus.ACCEPTED,
        answered_after=DAY,
        price="999.00",
    )
    return {"run": run, "later": later}


def test_funnel_by_kind_and_source_is_worked_out_by_hand(funnel_data: dict[str, Any]) -> None:
    section = build(WINDOW, NOW)
    table = section.table("funnel")
    assert table is not None
    assert [list(row) for row in table.rows] == [
        # Savings, campaign: the accepted ($250, 4 days), the declined, the one still open.
        # 3 offered; 3 opened; 1 accepted, 1 declined; 1/3 = 33.3%; $250; median of {4} = 4.0.
        [
            "Savings · campaign",
            3,
            3,
            1,
            1,
            0,
            Percent(Decimal("33.3")),
            Money(Decimal("250.00")),
            Decimal("4.0"),
        ],
        # Value, campaign: the expired one, never opened: 0/1 = 0%, nothing won, no median.
        ["Value · campaign", 1, 0, 0, 0, 1, Percent(Decimal("0.0")), Money(Decimal("0")), None],
        # Value, moment of need: accepted after 2 days at $400: 1/1 = 100%.
        [
            "Value · moment of need",
            1,
            1,
            1,
            0,
            0,
            Percent(Decimal("100.0")),
            Money(Decimal("400.00")),
            Decimal("2.0"),
        ],
        # All: 5 sent, 4 opened, 2 accepted (2/5 = 40%), $250 + $400 = $650, median of
        # {2, 4} days = (2 + 4) / 2 = 3.0. The pending offer and the 2024 one are not counted.
        [
            "All offers",
            5,
            4,
            2,
            1,
            1,
            Percent(Decimal("40.0")),
            Money(Decimal("650.00")),
            Decimal("3.0"),
        ],
    ]
    assert dict(section.headline) == {
        "Offers sent": 5,
        "Accepted": 2,
        "Conversion rate": Percent(Decimal("40.0")),
        "Recurring revenue won": Money(Decimal("650.00")),
        "Median days to accept": Decimal("3.0"),
    }


def test_funnel_per_run_newest_first(funnel_data: dict[str, Any]) -> None:
    table = build(WINDOW, NOW).table("runs")
    assert table is not None
    assert [list(row) for row in table.rows] == [
        # March's run: one offer sent and opened, not answered yet (the pending one not sent).
        [
            "2025-03-01 10:00 (schedule)",
            1,
            1,
            0,
            0,
            0,
            Percent(Decimal("0.0")),
            Money(Decimal("0")),
            None,
        ],
        # February's run: accepted ($250 after 4 days), declined, expired: 1/3 = 33.3%.
        [
            "2025-02-01 10:00 (schedule)",
            3,
            2,
            1,
            1,
            1,
            Percent(Decimal("33.3")),
            Money(Decimal("250.00")),
            Decimal("4.0"),
        ],
    ]


def test_a_window_before_the_runs_shows_only_the_old_run(funnel_data: dict[str, Any]) -> None:
    # April 2023 to March 2024 holds the 2024 run only: 1 offered, accepted after a day, $999.
    table = build(Window(Period(2024, 3)), NOW).table("runs")
    assert table is not None
    assert [row[:4] for row in table.rows] == [["2024-03-01 10:00 (schedule)", 1, 0, 1]]
    assert table.rows[0][7:] == [Money(Decimal("999.00")), Decimal("1.0")]


def test_median_is_the_middle_not_the_mean(now: dt.datetime) -> None:
    # Accepted after 1, 2 and 10 days: the median is 2 (the mean would be 13 / 3 = 4.3).
    for days in (1, 2, 10):
        offer(sent=at(2, 1), status=OfferStatus.ACCEPTED, answered_after=days * DAY)
    accepted = ConversionOffer.objects.filter(status=OfferStatus.ACCEPTED)
    assert median_days(accepted) == {None: Decimal("2.0")}
    # A fourth after 3 days 12 hours: the middle two are 2 and 3.5, so (2 + 3.5) / 2 = 2.75,
    # shown to a tenth as 2.8.
    offer(sent=at(2, 1), status=OfferStatus.ACCEPTED, answered_after=dt.timedelta(days=3.5))
    assert median_days(accepted) == {None: Decimal("2.8")}
    # By kind: a value offer accepted after 6 days stands alone in its group.
    offer(sent=at(2, 1), kind=OfferKind.VALUE, status=OfferStatus.ACCEPTED, answered_after=6 * DAY)
    assert median_days(accepted, "kind") == {
        OfferKind.SAVINGS: Decimal("2.8"),
        OfferKind.VALUE: Decimal("6.0"),
    }


def _grow(runs: int, offers_per_run: int) -> None:
    for n in range(runs):
        run = CampaignRunFactory(started_at=at(1, 2 + n))
        for k in range(offers_per_run):
            offer(
                sent=at(1, 2 + n),
                run=run,
                status=OfferStatus.ACCEPTED if k % 2 else OfferStatus.DECLINED,
                answered_after=(k + 1) * DAY,
                kind=OfferKind.VALUE if k % 3 else OfferKind.SAVINGS,
            )


@pytest.mark.parametrize(("runs", "offers_per_run"), [(1, 1), (6, 5)])
def test_the_section_reads_five_queries_whatever_the_size(
    now: dt.datetime, django_assert_num_queries: Any, runs: int, offers_per_run: int
) -> None:
    # 1 funnel by kind and source, 1 median by kind and source, 1 median of the window,
    # 1 funnel per run, 1 median per run (its runs a subquery).
    _grow(runs, offers_per_run)
    with django_assert_num_queries(5):
        section = build(WINDOW, NOW)
    runs_table = section.table("runs")
    assert runs_table is not None
    assert len(runs_table.rows) == runs


def test_the_dashboard_shows_the_funnel_with_a_chart_and_csv(
    manager_client: HttpClient, funnel_data: dict[str, Any]
) -> None:
    page = manager_client.get("/insights/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="conversion"' in html
    assert 'id="table-conversion-funnel"' in html
    assert "data-chart=" in html
    csv = manager_client.get("/insights/csv/conversion/funnel.csv")
    assert csv.status_code == 200
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("Kind · source,Offered (sent),Opened the page,Accepted")
    assert lines[-1] == "All offers,5,4,2,1,1,40.0,650.00,3.0"
