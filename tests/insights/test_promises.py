"""Promises kept: SLA compliance of contract tickets, and the page of tickets that missed one.

Contract tickets from the factory are due 4 hours (response) and 24 hours (resolution) after
they open. The clock stands at Monday 10 March 2025, 16:00 UTC, and the window ends now, so the
30 days run from 8 February 16:00 and the 90 days from 10 December 16:00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from billing.periods import Period
from clients.figures import Link, Percent
from contracts.models import Priority
from insights.promises import build
from insights.window import Window
from tests.conftest import NOW
from tests.factories import ContractFactory, ContractTicketFactory, PlanFactory, TicketFactory
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db

WINDOW = Window(Period(2025, 3))
MISSED = "/insights/promises/missed/"


def at(month: int, day: int, hour: int = 14, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, 0, tzinfo=dt.UTC)


def ticket(
    contract: Any,
    opened: dt.datetime,
    *,
    priority: str = Priority.HIGH,
    answered: float | None = None,
    resolved: float | None = None,
    paused: float | None = None,
) -> Ticket:
    """A contract ticket; answered, resolved and paused are hours after it opened."""

    def after(hours: float | None) -> dt.datetime | None:
        return None if hours is None else opened + dt.timedelta(hours=hours)

    return ContractTicketFactory(
        contract=contract,
        priority=priority,
        opened_at=opened,
        first_response_at=after(answered),
        resolved_at=after(resolved),
        sla_paused_at=after(paused),
        status=TicketStatus.WAITING_ON_CLIENT
        if paused is not None
        else TicketStatus.RESOLVED
        if resolved is not None
        else TicketStatus.IN_PROGRESS,
    )


@pytest.fixture
def sla(now: dt.datetime) -> dict[str, Any]:
    gold = ContractFactory(plan=PlanFactory(name="Gold"))
    silver = ContractFactory(plan=PlanFactory(name="Silver"))
    made = {"gold": gold.plan, "silver": silver.plan}
    # Gold, high: four tickets in the last 30 days.
    made["t1"] = ticket(gold, at(3, 3), answered=1, resolved=5)  # both in time
    made["t2"] = ticket(gold, at(3, 4), answered=6, resolved=20)  # answered 2 h late
    made["t3"] = ticket(gold, at(3, 5), answered=2, resolved=30)  # resolved 6 h late
    made["t4"] = ticket(gold, at(3, 10))  # opened 2 h ago: both pending
    # Gold, normal: the pause cases, a ticket resolved with no reply, one from January.
    normal = Priority.NORMAL
    # Paused 1 h in, 3 h before the response was due: both clocks stopped, both pending
    # (its stored deadlines, 9 March 14:00 and 10 March 10:00, are stale, not missed).
    made["t6"] = ticket(gold, at(3, 9, 10), priority=normal, paused=1)
    # Paused 5 h in, 1 h after the response was due: the breach stands (missed); the
    # resolution had 19 h left when the clock stopped (pending).
    made["t7"] = ticket(gold, at(3, 9, 8), priority=normal, paused=5)
    # Resolved after 1 h with no reply: the resolution answered it; both in time.
    made["t8"] = ticket(gold, at(3, 6), priority=normal, resolved=1)
    # Paused 1 h in, replied 5 h in (after the stale 4 h deadline) during the pause: in time;
    # the resolution, 23 h left at the pause, is pending.
    made["t9"] = ticket(gold, at(3, 7), priority=normal, paused=1, answered=5)
    # 10 January: in the 90 days only, never answered: both targets missed.
    made["t5"] = ticket(gold, at(1, 10), priority=normal)
    # Silver, urgent: 1 February, in the 90 days only, both in time.
    ticket(silver, at(2, 1), priority=Priority.URGENT, answered=1, resolved=2)
    # Not counted: a transactional ticket never answered, and a contract ticket too old.
    TicketFactory(opened_at=at(3, 1))
    ticket(gold, at(11, 1, year=2024))
    return made


def late(plan: Any, priority: str, days: int, target: str, count: int) -> Link:
    url = reverse("insights:missed")
    url += f"?days={days}&target={target}&to=2025-03&plan={plan.pk}&priority={priority}"
    return Link(str(count), url)


def everyone(days: int, target: str, count: int) -> Link:
    return Link(str(count), f"{reverse('insights:missed')}?days={days}&target={target}&to=2025-03")


def pct(value: str) -> Percent:
    return Percent(Decimal(value))


def test_compliance_over_30_days_is_worked_out_by_hand(sla: dict[str, Any]) -> None:
    gold = sla["gold"]
    section = build(WINDOW, NOW)
    table = section.table("sla-30")
    assert table is not None
    assert [list(row) for row in table.rows] == [
        # t1..t4. Response: in time t1, t3; late t2; pending t4: 2 / (2 + 1) = 66.7%.
        # Resolution: in time t1, t2; late t3; pending t4: 2 / 3 = 66.7%.
        [
            "Gold · High",
            4,
            2,
            late(gold, "high", 30, "response", 1),
            pct("66.7"),
            1,
            2,
            late(gold, "high", 30, "resolution", 1),
            pct("66.7"),
            1,
        ],
        # t6..t9. Response: in time t8, t9; late t7; pending t6: 2 / 3 = 66.7%.
        # Resolution: in time t8; none late; pending t6, t7, t9: 1 / 1 = 100%.
        [
            "Gold · Normal",
            4,
            2,
            late(gold, "normal", 30, "response", 1),
            pct("66.7"),
            1,
            1,
            0,
            pct("100.0"),
            3,
        ],
        # All: response 4 in time, 2 late, 4 / 6 = 66.7%; resolution 3 in time, 1 late,
        # 3 / 4 = 75%; pending 1 + 1 = 2 and 1 + 3 = 4.
        [
            "All plans",
            8,
            4,
            everyone(30, "response", 2),
            pct("66.7"),
            2,
            3,
            everyone(30, "resolution", 1),
            pct("75.0"),
            4,
        ],
    ]


def test_compliance_over_90_days_adds_january_and_silver(sla: dict[str, Any]) -> None:
    gold = sla["gold"]
    section = build(WINDOW, NOW)
    table = section.table("sla-90")
    assert table is not None
    assert [list(row) for row in table.rows] == [
        [
            "Gold · High",
            4,
            2,
            late(gold, "high", 90, "response", 1),
            pct("66.7"),
            1,
            2,
            late(gold, "high", 90, "resolution", 1),
            pct("66.7"),
            1,
        ],
        # t5 adds a missed response and a missed resolution: 2 / 4 = 50%, 1 / 2 = 50%.
        [
            "Gold · Normal",
            5,
            2,
            late(gold, "normal", 90, "response", 2),
            pct("50.0"),
            1,
            1,
            late(gold, "normal", 90, "resolution", 1),
            pct("50.0"),
            3,
        ],
        ["Silver · Urgent", 1, 1, 0, pct("100.0"), 0, 1, 0, pct("100.0"), 0],
        # Response 2 + 2 + 1 = 5 in time, 1 + 2 = 3 late: 5 / 8 = 62.5%.
        # Resolution 2 + 1 + 1 = 4 in time, 1 + 1 = 2 late: 4 / 6 = 66.7%.
        [
            "All plans",
            10,
            5,
            everyone(90, "response", 3),
            pct("62.5"),
            2,
            4,
            everyone(90, "resolution", 2),
            pct("66.7"),
            4,
        ],
    ]
    assert dict(section.headline) == {
        "Responses in time, 30 days": pct("66.7"),
        "Resolutions in time, 30 days": pct("75.0"),
        "Responses in time, 90 days": pct("62.5"),
        "Resolutions in time, 90 days": pct("66.7"),
    }


def test_a_window_ending_in_january_counts_from_its_end(sla: dict[str, Any]) -> None:
    # January's window ends 1 February 00:00 in New York (05:00 UTC): its 30 days hold t5 only
    # (Silver's ticket opened at 14:00 UTC, after the end).
    table = build(Window(Period(2025, 1)), NOW).table("sla-30")
    assert table is not None
    url = f"{MISSED}?days=30&target=response&to=2025-01&plan={sla['gold'].pk}&priority=normal"
    assert [row[:4] for row in table.rows] == [
        ["Gold · Normal", 1, 0, Link("1", url)],
        ["All plans", 1, 0, Link("1", f"{MISSED}?days=30&target=response&to=2025-01")],
    ]


@pytest.mark.parametrize("extra", [0, 12])
def test_the_section_is_one_query_whatever_the_size(
    sla: dict[str, Any], django_assert_num_queries: Any, extra: int
) -> None:
    # One grouped query counts both periods and both targets for every plan and priority.
    plan = PlanFactory(name="Bronze")
    for n in range(extra):
        contract = ContractFactory(plan=plan)
        ticket(contract, NOW - dt.timedelta(days=n * 7), priority=Priority.LOW, answered=n % 8)
    with django_assert_num_queries(1):
        build(WINDOW, NOW)


# --- The page of missed tickets -----------------------------------------------------------


def test_manager_sees_the_tickets_behind_a_late_figure(
    manager_client: HttpClient, sla: dict[str, Any]
) -> None:
    t2 = sla["t2"]
    response = manager_client.get(
        f"{MISSED}?days=30&target=response&plan={sla['gold'].pk}&priority=high&to=2025-03"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(reverse("tickets:detail", args=[t2.pk])) == 1
    assert f"#{t2.pk} {t2.subject}" in html
    assert t2.client.name in html
    assert "2 h<" in html  # answered at 20:00, due at 18:00
    for other in ("t1", "t3", "t4", "t7"):
        assert reverse("tickets:detail", args=[sla[other].pk]) not in html


def test_every_plan_lists_newest_first_with_how_late(
    manager_client: HttpClient, sla: dict[str, Any]
) -> None:
    response = manager_client.get(f"{MISSED}?days=90&target=response")
    assert response.status_code == 200
    html = response.content.decode()
    found = [
        html.index(reverse("tickets:detail", args=[sla[t].pk]) + '"') for t in ["t7", "t2", "t5"]
    ]
    assert found == sorted(found)
    # t7 was due 9 March 12:00, still unanswered at 10 March 16:00: 1 d 4 h so far.
    # t5 was due 10 January 18:00: 58 days 22 hours before 10 March 16:00 (31 + 28 = 59 days to 10 March 18:00, less 2 hours).
    assert "1 d 4 h so far" in html
    assert "58 d 22 h so far" in html


def test_consultant_is_refused_the_missed_tickets(consultant_client: HttpClient) -> None:
    assert consultant_client.get(f"{MISSED}?days=30&target=response").status_code == 403


def test_anonymous_gets_the_login_page_for_missed_tickets(anon_client: HttpClient) -> None:
    response = anon_client.get(f"{MISSED}?days=30&target=response")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("days=%C2%B2&plan=abc&target=response", "Pick 30 or 90 days, not ²."),
        ("days=%C2%B2&plan=abc&target=response", "There is no plan abc."),
        ("days=30&plan=999999&target=response", "There is no plan 999999."),
        ("days=30&plan=99999999999999999999&target=response", "There is no plan 9999"),
        ("days=30&plan=%00&target=response&priority=%00", "There is no priority"),
        ("days=30", "Say which target: response or resolution."),
        ("target=response", "Say how many days: 30 or 90."),
        ("days=30&target=speed", "The target is response or resolution, not speed."),
        ("days=30&target=response&priority=asap", "There is no priority asap."),
        ("days=30&target=response&page=0", "Pages start at 1."),
        ("days=30&target=response&page=x", "The page is a whole number."),
        ("days=30&target=response&to=2026-13", "2026-13"),
    ],
)
def test_bad_parameters_are_answered_with_the_reason(
    manager_client: HttpClient, query: str, said: str
) -> None:
    response = manager_client.get(f"{MISSED}?{query}")
    assert response.status_code == 400
    assert said in response.content.decode()


@pytest.mark.parametrize("late_tickets", [1, 60])
def test_the_missed_page_reads_a_fixed_number_of_queries(
    manager_client: HttpClient,
    now: dt.datetime,
    django_assert_num_queries: Any,
    late_tickets: int,
) -> None:
    contract = ContractFactory(plan=PlanFactory(name="Gold"))
    for n in range(late_tickets):
        ticket(contract, NOW - dt.timedelta(hours=5 + n))
    url = f"{MISSED}?days=30&target=response&plan={contract.plan_id}&priority=high"
    # session, user, the user's permissions and its groups' permissions (views_insights), the
    # plan asked for, the count of missed tickets, one page of them with client and plan: 7.
    with django_assert_num_queries(7):
        response = manager_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("so far") == min(late_tickets, 50)
