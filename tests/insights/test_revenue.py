"""Recurring revenue and predictability, checked against figures worked out by hand.

The clock stands at Monday 10 March 2025, noon in New York (tests/conftest.py NOW); the window
is January to March 2025, March in progress (read as of the 10th). The book, per client:

  A  2024-03-01 .. 2025-02-28, $450 (10% off the $500 plan, first term only); renewed early, on
     15 Feb, so it is ENDED from then but still covers to 28 Feb. Its renewal B starts 1 Mar
     at the plan's $500: an expansion of $50 in March, and no churn.
  C  starts 2025-01-15 at $300 (new in January, mid-window); cancelled on 20 Feb, so it
     covers to 19 Feb: churn of $300 in February.
  D  2024-06-01 .. 2025-05-31, $200 throughout.
  E1 2024-02-01 .. 2025-01-31, $600, renewed as E2 from 1 Feb at $550 (a cheaper plan): a
     contraction of $50 in February.
  F  to start 2025-02-10, cancelled that morning: it never covered a day (no new, no churn).
  G  2024-01-01 .. 2024-12-31, $100, ended by the roll-over on 1 Jan with no renewal: churn of
     $100 in January (in force at the end of December, not at the end of January).

Committed MRR (contracts in force at the month's end, or on 10 March):
  31 Dec: A 450 + D 200 + E1 600 + G 100          = 1,350.00
  31 Jan: A 450 + D 200 + E1 600 + C 300          = 1,550.00 (4 contracts)
  28 Feb: A 450 + D 200 + E2 550                  = 1,200.00 (3; C cancelled, F never ran)
  10 Mar: B 500 + D 200 + E2 550                  = 1,250.00 (3)
Movements: Jan +300 new (C) -100 churn (G) = +200 = 1550 - 1350;
           Feb -50 contraction (E) -300 churn (C) = -350 = 1200 - 1550;
           Mar +50 expansion (A->B)                = +50 = 1250 - 1200.
Change over the window: 1250 - 1350 = -100.

The billing runs for January and February (run on 10 March) post the fees, dated in the month
they are for: January: A 450 + D 200 + E1 600 + C 17 of 31 days (15..31 Jan) x 300 = 164.516
-> 164.52; total 1,414.52. February: A 450 + D 200 + E2 550 + C 19 of 28 days (1..19 Feb) x 300
= 203.571 -> 203.57; total 1,403.57. March is not billed yet: $0.
Other charges: labour $125 on 20 Jan; labour $80 at 23:30 on 31 Dec in New York (04:30 UTC on 1
Jan: December, outside the window); hardware (kind other) $1,000 on 3 Feb; paid priority $40
at 23:30 on 28 Feb in New York (1 Mar in UTC: still February).
Recurring share: Jan 1414.52 / (1414.52 + 125) = 1414.52 / 1539.52 = 91.88% -> 91.9%;
Feb 1403.57 / (1403.57 + 1000 + 40) = 1403.57 / 2443.57 = 57.44% -> 57.4%; Mar: nothing billed,
a dash. Target 60%: February is 2.6 points below.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient

from billing.periods import Period
from billing.run import billing_run
from clients.figures import Link, Money, Percent
from clients.models import ChargeKind
from contracts.models import ContractStatus, ServiceContract
from contracts.services import contract_cancel, contract_renew, term_end
from insights.models import InsightsSettings
from insights.revenue import predictability_section, revenue_section, revenue_sections
from insights.window import Window
from tests.conftest import NOW
from tests.factories import ChargeFactory, ContractFactory, PlanFactory

pytestmark = pytest.mark.django_db

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
WINDOW = Window(Period(2025, 3), months=3)
QUERY = "to=2025-03&months=3"


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    """A moment in the practice's time zone."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def _ended(**kwargs: Any) -> ServiceContract:
    return ContractFactory(status=ContractStatus.ENDED, end_reason="Term over", **kwargs)


@pytest.fixture
def revenue_book(time_machine: Any) -> dict[str, ServiceContract]:
    """The contracts and charges of the module's docstring, the clock left at NOW."""
    plan = PlanFactory(monthly_price=Decimal("500.00"))
    small = PlanFactory(monthly_price=Decimal("300.00"))
    time_machine.move_to(at(2025, 1, 2), tick=False)
    a = ContractFactory(
        plan=plan,
        starts_on=dt.date(2024, 3, 1),
        monthly_price=Decimal("450.00"),
        discount_percent=Decimal("10.00"),
        discount_first_term_only=True,
    )
    c = ContractFactory(plan=small, starts_on=dt.date(2025, 1, 15))
    ContractFactory(starts_on=dt.date(2024, 6, 1), monthly_price=Decimal("200.00"))
    e1 = _ended(
        starts_on=dt.date(2024, 2, 1),
        monthly_price=Decimal("600.00"),
        ended_at=at(2025, 2, 1, 0, 5),
    )
    ContractFactory(
        client=e1.client,
        plan=e1.plan,
        starts_on=dt.date(2025, 2, 1),
        monthly_price=Decimal("550.00"),
        renewed_from=e1,
    )
    ContractFactory(
        starts_on=dt.date(2025, 2, 10),
        status=ContractStatus.CANCELLED,
        ended_at=at(2025, 2, 10, 9),
        end_reason="Changed their mind",
    )
    _ended(
        starts_on=dt.date(2024, 1, 1), monthly_price=Decimal("100.00"), ended_at=at(2025, 1, 1, 1)
    )
    time_machine.move_to(at(2025, 2, 15), tick=False)
    b = contract_renew(contract=a)
    time_machine.move_to(at(2025, 2, 20), tick=False)
    contract_cancel(contract=c, reason="Moving away")
    time_machine.move_to(NOW, tick=False)
    billing_run(period=Period(2025, 1))
    billing_run(period=Period(2025, 2))
    ChargeFactory(amount=Decimal("125.00"), occurred_at=at(2025, 1, 20))
    ChargeFactory(amount=Decimal("80.00"), occurred_at=at(2024, 12, 31, 23, 30))
    ChargeFactory(kind=ChargeKind.OTHER, amount=Decimal("1000.00"), occurred_at=at(2025, 2, 3))
    ChargeFactory(
        kind=ChargeKind.PAID_PRIORITY, amount=Decimal("40.00"), occurred_at=at(2025, 2, 28, 23, 30)
    )
    InsightsSettings.load()  # the target's row, as the first visit to the page leaves it
    return {"a": a, "b": b, "c": c}


def test_the_book_is_as_the_docstring_says(revenue_book: dict[str, ServiceContract]) -> None:
    """The services did what the hand-worked figures assume."""
    a, b = revenue_book["a"], revenue_book["b"]
    a.refresh_from_db()
    assert (a.status, a.ends_on, a.last_day) == (
        ContractStatus.ENDED,
        dt.date(2025, 2, 28),
        dt.date(2025, 2, 28),
    )
    assert (b.starts_on, b.monthly_price) == (dt.date(2025, 3, 1), Decimal("500.00"))
    revenue_book["c"].refresh_from_db()
    assert revenue_book["c"].last_day == dt.date(2025, 2, 19)


def test_booked_and_committed_mrr_per_month(revenue_book: dict, now: dt.datetime) -> None:
    table = revenue_section(WINDOW, now).table("mrr")
    assert table is not None
    assert [list(row) for row in table.rows] == [
        ["January 2025", Money(Decimal("1414.52")), Money(Decimal("1550.00")), 4],
        ["February 2025", Money(Decimal("1403.57")), Money(Decimal("1200.00")), 3],
        ["March 2025 (to date)", Money(Decimal("0.00")), Money(Decimal("1250.00")), 3],
    ]


def test_movements_add_up_to_the_change_in_committed_mrr(
    revenue_book: dict, now: dt.datetime
) -> None:
    table = revenue_section(WINDOW, now).table("movements")
    assert table is not None
    m = Money
    assert [list(row) for row in table.rows] == [
        # new, expansion, contraction, churn, net; then the counts
        [
            "January 2025",
            m(Decimal("300.00")),
            m(Decimal("0.00")),
            m(Decimal("0.00")),
            m(Decimal("-100.00")),
            m(Decimal("200.00")),
            1,
            0,
            0,
            1,
        ],
        [
            "February 2025",
            m(Decimal("0.00")),
            m(Decimal("0.00")),
            m(Decimal("-50.00")),
            m(Decimal("-300.00")),
            m(Decimal("-350.00")),
            0,
            0,
            1,
            1,
        ],
        [
            "March 2025 (to date)",
            m(Decimal("0.00")),
            m(Decimal("50.00")),
            m(Decimal("0.00")),
            m(Decimal("0.00")),
            m(Decimal("50.00")),
            0,
            1,
            0,
            0,
        ],
    ]


def test_revenue_headline(revenue_book: dict, now: dt.datetime) -> None:
    assert revenue_section(WINDOW, now).headline == [
        ("Committed MRR now", Money(Decimal("1250.00"))),
        ("Change since the end of December 2024", Money(Decimal("-100.00"))),
        ("Contracts in force now", 3),
        ("Booked in February 2025", Money(Decimal("1403.57"))),
    ]


def test_a_past_window_reads_its_last_month_to_the_end(
    revenue_book: dict, now: dt.datetime
) -> None:
    # January to February: February's end is the latest reading (1,200), against 1,350 on 31 Dec.
    section = revenue_section(Window(Period(2025, 2), months=2), now)
    assert section.headline[:2] == [
        ("Committed MRR at the end of February 2025", Money(Decimal("1200.00"))),
        ("Change since the end of December 2024", Money(Decimal("-150.00"))),
    ]


def test_recurring_share_against_the_target(revenue_book: dict, now: dt.datetime) -> None:
    section = predictability_section(WINDOW, now)
    table = section.table("share")
    assert table is not None
    target = Percent(Decimal("60.00"))
    assert [list(row) for row in table.rows] == [
        [
            "January 2025",
            Money(Decimal("1414.52")),
            Money(Decimal("1539.52")),
            Percent(Decimal("91.9")),
            target,
        ],
        [
            "February 2025",
            Money(Decimal("1403.57")),
            Money(Decimal("2443.57")),
            Percent(Decimal("57.4")),
            target,
        ],
        [
            "March 2025 (to date)",
            Money(Decimal("0.00")),
            Money(Decimal("0.00")),
            Percent(None),
            target,
        ],
    ]
    assert section.headline == [
        ("Recurring share, February 2025", Percent(Decimal("57.4"))),
        ("Target", target),
        ("Against the target", "2.6 points below target"),
    ]


def test_the_target_is_the_managers(revenue_book: dict, now: dt.datetime) -> None:
    settings = InsightsSettings.load()
    settings.recurring_share_target_percent = Decimal("50.00")
    settings.save()
    # February's 57.4% against 50%: 7.4 points above.
    section = predictability_section(WINDOW, now)
    assert section.headline[1:] == [
        ("Target", Percent(Decimal("50.00"))),
        ("Against the target", "7.4 points above target"),
    ]


def test_share_chart_draws_the_target_dashed(revenue_book: dict, now: dt.datetime) -> None:
    import json

    table = predictability_section(WINDOW, now).table("share")
    assert table is not None
    config = json.loads(table.chart_config())
    share, target = config["data"]["datasets"]
    assert share["data"] == [91.9, 57.4, None]
    assert target["data"] == [60.0, 60.0, 60.0]
    assert target["borderDash"] == [6, 4]
    assert config["percent"] is True


def test_share_csv_is_exactly_the_table(revenue_book: dict, manager_client: HttpClient) -> None:
    response = manager_client.get(f"/insights/csv/predictability/share.csv?{QUERY}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.decode() == (
        "Month,Contract fees,Everything billed,Recurring share,Target\r\n"
        "January 2025,1414.52,1539.52,91.9,60.0\r\n"
        "February 2025,1403.57,2443.57,57.4,60.0\r\n"
        "March 2025 (to date),0.00,0.00,,60.0\r\n"
    )


def test_movements_csv_shows_losses_as_negative_amounts(
    revenue_book: dict, manager_client: HttpClient
) -> None:
    response = manager_client.get(f"/insights/csv/revenue/movements.csv?{QUERY}")
    assert response.status_code == 200
    assert response.content.decode().splitlines()[2] == (
        "February 2025,0.00,0.00,-50.00,-300.00,-350.00,0,0,1,1"
    )


def test_the_dashboard_shows_both_sections(revenue_book: dict, manager_client: HttpClient) -> None:
    response = manager_client.get(f"/insights/?{QUERY}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="revenue"' in page
    assert 'id="predictability"' in page
    assert "$1,250.00" in page  # committed MRR now
    assert "2.6 points below target" in page
    assert 'id="table-revenue-movements"' in page
    assert "data-chart=" in page


def test_nothing_at_all_shows_zeros_and_dashes(db: None, now: dt.datetime) -> None:
    revenue = revenue_section(WINDOW, now)
    assert revenue.headline[0] == ("Committed MRR now", Money(Decimal("0.00")))
    predictability = predictability_section(WINDOW, now)
    assert predictability.headline[0] == ("Recurring share, February 2025", Percent(None))
    assert predictability.headline[2] == ("Against the target", "Nothing billed")


def _more_of_everything(n: int) -> None:
    """n more clients of each kind: new, renewed at a higher price, cancelled; n more charges."""
    for i in range(n):
        ContractFactory(starts_on=dt.date(2025, 1, 1 + i % 28))
        old = _ended(starts_on=dt.date(2024, 2, 1), ended_at=at(2025, 1, 20))
        ContractFactory(
            client=old.client,
            starts_on=dt.date(2025, 2, 1),
            monthly_price=old.monthly_price + 10,
            renewed_from=old,
        )
        ContractFactory(
            starts_on=dt.date(2024, 5, 1),
            ends_on=term_end(dt.date(2024, 5, 1), 12),
            status=ContractStatus.CANCELLED,
            ended_at=at(2025, 2, 1 + i % 28),
        )
        ChargeFactory(occurred_at=at(2025, 1 + i % 3, 1 + i % 9))


@pytest.mark.parametrize("more", [0, 40])
def test_query_count_does_not_grow_with_the_data(
    revenue_book: dict, now: dt.datetime, django_assert_num_queries: Any, more: int
) -> None:
    _more_of_everything(more)
    # Both sections from one reading: the ledger grouped by month, the month of the last
    # billing run, one aggregate over the contracts, the target.
    with django_assert_num_queries(4):
        revenue_sections(WINDOW, now)


def test_a_renewal_cancelled_before_it_began_leaves_the_term_as_churn(
    db: None, time_machine: Any
) -> None:
    # H: 2024-03-01 .. 2025-02-28 at $250, renewed early on 15 Feb; the renewal (from 1 Mar) is
    # cancelled on 25 Feb, before it began, so it never covers a day. H stops on 28 Feb with
    # nothing after it: committed 250 (Jan), 250 (Feb), 0 (10 Mar); churn of $250 in March,
    # no expansion, no new.
    time_machine.move_to(at(2025, 2, 15), tick=False)
    h = ContractFactory(starts_on=dt.date(2024, 3, 1), monthly_price=Decimal("250.00"))
    renewal = contract_renew(contract=h)
    time_machine.move_to(at(2025, 2, 25), tick=False)
    contract_cancel(contract=renewal, reason="Changed their mind")
    time_machine.move_to(NOW, tick=False)
    section = revenue_section(WINDOW, NOW)
    mrr, movements = section.table("mrr"), section.table("movements")
    assert mrr is not None
    assert movements is not None
    assert [row[2] for row in mrr.rows] == [
        Money(Decimal("250.00")),
        Money(Decimal("250.00")),
        Money(Decimal("0.00")),
    ]
    assert list(movements.rows[2][1:]) == [
        Money(Decimal("0.00")),
        Money(Decimal("0.00")),
        Money(Decimal("0.00")),
        Money(Decimal("-250.00")),
        Money(Decimal("-250.00")),
        0,
        0,
        0,
        1,
    ]


def test_a_two_year_window_has_a_row_per_month(revenue_book: dict, now: dt.datetime) -> None:
    # 24 months to March 2025: April 2023 .. March 2025. Committed at the end of March 2024:
    # E1 600 (from 1 Feb 2024) + G 100 (from 1 Jan 2024) + A 450 (from 1 Mar 2024) = 1,150.
    section = revenue_section(Window(Period(2025, 3), months=24), now)
    table = section.table("mrr")
    assert table is not None
    assert len(table.rows) == 24
    assert table.rows[0][0] == "April 2023"
    assert table.rows[11][0] == "March 2024"
    assert table.rows[11][2] == Money(Decimal("1150.00"))


def test_a_month_billing_has_not_run_for_shows_no_share_and_asks_to_be_billed(
    db: None, time_machine: Any
) -> None:
    # One contract at $300 from 1 Jan 2025; billing ran for January only. February has ended
    # with $250 of labour on the ledger but no fee: its share would read 0%, so it shows none
    # and the headline sends the manager to bill it. January: 300 / (300 + 0) = 100.0%.
    time_machine.move_to(at(2025, 1, 1), tick=False)
    contract = ContractFactory(starts_on=dt.date(2025, 1, 1), monthly_price=Decimal("300.00"))
    time_machine.move_to(NOW, tick=False)
    billing_run(period=Period(2025, 1))
    ChargeFactory(client=contract.client, amount=Decimal("250.00"), occurred_at=at(2025, 2, 12))

    revenue, predictability = revenue_sections(WINDOW, NOW)

    mrr = revenue.table("mrr")
    assert mrr is not None
    assert [row[:2] for row in mrr.rows] == [
        ("January 2025", Money(Decimal("300.00"))),
        ("February 2025 (not billed yet)", None),
        ("March 2025 (to date)", Money(Decimal("0.00"))),
    ]
    bill_february = ("Not billed yet", Link("Bill February 2025", "/billing/2025-02/"))
    assert revenue.headline[-2:] == [
        ("Booked in January 2025", Money(Decimal("300.00"))),
        bill_february,
    ]
    share = predictability.table("share")
    assert share is not None
    assert [row[3] for row in share.rows] == [
        Percent(Decimal("100.0")),
        Percent(None),
        Percent(None),
    ]
    assert predictability.headline[0] == (
        "Recurring share, January 2025",
        Percent(Decimal("100.0")),
    )
    assert predictability.headline[-1] == bill_february
