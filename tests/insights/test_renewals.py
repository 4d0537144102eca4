"""Renewals: the contracts ending in the next 60 days with the price after renewal, renewing or
cancelling them from the list, and the managers' Monday email."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse
from django_celery_beat.models import PeriodicTask

from clients.models import ClientEvent, ClientEventKind
from contracts.models import ContractStatus, RenewalMode, ServiceContract
from insights.renewals import renewals_digest_send
from insights.tasks import renewals_weekly_task
from tests.conftest import NOW, TODAY, committed
from tests.factories import ClientFactory, ContractFactory, PlanFactory

pytestmark = pytest.mark.django_db

PAGE = "/insights/renewals/"
DAY = dt.timedelta(days=1)


def _contract(name: str, ends_in: int, **fields: Any) -> ServiceContract:
    """A one-year term of `name` that ends `ends_in` days after TODAY."""
    ends_on = TODAY + dt.timedelta(days=ends_in)
    values: dict[str, Any] = {
        "client": ClientFactory(name=name),
        "starts_on": ends_on - dt.timedelta(days=364),
        "ends_on": ends_on,
        **fields,
    }
    values.setdefault("plan", PlanFactory(monthly_price=Decimal("200.00")))
    values.setdefault("monthly_price", values["plan"].monthly_price)
    return ContractFactory(**values)


@pytest.fixture
def book(now: dt.datetime) -> dict[str, ServiceContract]:
    """Three contracts in the 60 days (TODAY is 10 March 2025, so up to 9 May 2025) and four
    that are not.

    - Alder: automatic, ends 20 Mar; $450.00 = the $500.00 plan at 10% off for the first term
      only, so it renews at $500.00; its notice went out on 18 Feb (30 days before).
    - Birch: by hand, ends 24 Apr; $270.00 = $300.00 at 10% off every term: renews at $270.00.
    - Cedar: automatic, ends 9 May (the 60th day, included); $200.00, no discount; its notice
      is due 9 Apr (9 May less the 30 days of the renewal settings).
    """
    return {
        "alder": _contract(
            "Alder Dental",
            10,
            plan=PlanFactory(name="Gold", monthly_price=Decimal("500.00")),
            monthly_price=Decimal("450.00"),
            discount_percent=Decimal("10.00"),
            discount_first_term_only=True,
            renewal_notice_sent_at=dt.datetime(2025, 2, 18, 12, tzinfo=dt.UTC),
        ),
        "birch": _contract(
            "Birch Legal",
            45,
            plan=PlanFactory(name="Silver", monthly_price=Decimal("300.00")),
            monthly_price=Decimal("270.00"),
            discount_percent=Decimal("10.00"),
            renewal=RenewalMode.MANUAL,
        ),
        "cedar": _contract("Cedar Vets", 60),
        # Not listed: the 61st day, a term that lapsed yesterday (the roll-over renews it),
        # and a cancelled term.
        "dogwood": _contract("Dogwood Bakery", 61),
        "elm": _contract("Elm Garage", -1),
        "fir": _contract(
            "Fir Florist",
            5,
            status=ContractStatus.CANCELLED,
            ended_at=NOW - DAY,
            end_reason="Moved away",
        ),
    }


def _names_in_order(html: str, names: list[str]) -> list[str]:
    found = [n for n in names if n in html]
    return sorted(found, key=html.index)


# --- The page ---------------------------------------------------------------------------------
def test_the_list_shows_the_contracts_ending_in_60_days_with_the_price_after_renewal(
    book: dict[str, ServiceContract], manager_client: HttpClient
) -> None:
    response = manager_client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    everyone = ["Alder", "Birch", "Cedar", "Dogwood", "Elm", "Fir"]
    assert _names_in_order(html, everyone) == ["Alder", "Birch", "Cedar"]
    rows = {r.contract.client.name: r for r in response.context["rows"]}
    alder, birch, cedar = rows["Alder Dental"], rows["Birch Legal"], rows["Cedar Vets"]
    assert (alder.contract.monthly_price, alder.contract.renewal_price) == (
        Decimal("450.00"),
        Decimal("500.00"),
    )
    assert birch.contract.renewal_price == Decimal("270.00")
    assert (alder.renews_automatically, birch.renews_automatically) == (True, False)
    assert cedar.notice_due_on == dt.date(2025, 4, 9)
    assert birch.notice_due_on is None
    alder_id = book["alder"].pk
    row = html[html.index(f'id="contract-{alder_id}"') :]
    row = row[: row.index("</tr>")]
    assert "20 Mar 2025" in row
    assert "Automatic" in row
    assert "$450.00" in row
    assert "10% off, first term only" in row
    assert "$500.00" in row
    assert "discount ends" in row
    assert "Sent 18 Feb 2025" in row
    assert "By hand" in html
    assert "None (renewed by hand)" in html
    assert "Due 9 Apr 2025" in html
    # The client's notice is contracts' own, linked, with its number of days.
    assert reverse("admin:contracts_renewalsettings_change", args=[1]) in html
    assert "30 days before the term ends" in html


def test_a_notice_due_in_the_past_and_not_sent_is_called_out(
    now: dt.datetime, manager_client: HttpClient
) -> None:
    # Ends 20 Mar with a 30-day notice: due 18 Feb, three weeks before TODAY (10 Mar), unsent.
    late = _contract("Hazel Opticians", 10)

    response = manager_client.get(PAGE)

    html = response.content.decode()
    row = html[html.index(f'id="contract-{late.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "Not sent</span>, due 18 Feb 2025" in row
    confirm = manager_client.get(
        reverse("insights:renewal_confirm", args=[late.pk])
    ).content.decode()
    assert "notice was due 18 Feb 2025 and has not been sent" in confirm


def test_the_list_says_when_nothing_ends(now: dt.datetime, manager_client: HttpClient) -> None:
    assert "No contract ends in the next 60 days." in manager_client.get(PAGE).content.decode()


@pytest.mark.parametrize("contracts", [1, 6])
def test_the_list_takes_the_same_queries_whatever_its_length(
    now: dt.datetime,
    manager_client: HttpClient,
    django_assert_num_queries: Any,
    contracts: int,
) -> None:
    for n in range(contracts):
        _contract(f"Client {n}", 5 + n)
    manager_client.get(PAGE)  # the session and the settings row exist from here on

    # 1 session, 1 user, 2 permissions (the user's and its groups', read once), 1 renewal
    # settings row, 1 count for the pager, 1 page of contracts with their clients and plans.
    with django_assert_num_queries(7):
        response = manager_client.get(PAGE)
    assert len(response.context["rows"]) == contracts


def test_a_consultant_is_refused_the_list(consultant_client: HttpClient) -> None:
    assert consultant_client.get(PAGE).status_code == 403


def test_anonymous_gets_the_login_page_for_the_list(anon_client: HttpClient) -> None:
    response = anon_client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Renew and cancel -------------------------------------------------------------------------
def test_the_confirmation_says_what_renewing_costs(
    book: dict[str, ServiceContract], manager_client: HttpClient
) -> None:
    response = manager_client.get(reverse("insights:renewal_confirm", args=[book["alder"].pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "$500.00 a month (the first-term discount ends)" in html
    assert "from 21 Mar 2025, is booked now at $500.00 a month" in html
    assert 'name="confirm"' in html
    assert 'name="reason"' in html


def test_renewing_from_the_list_books_the_next_term_at_the_plan_price(
    book: dict[str, ServiceContract], manager: User, manager_client: HttpClient
) -> None:
    alder = book["alder"]

    response = manager_client.post(
        reverse("insights:renew"), {"contract": alder.pk, "confirm": "on"}, follow=True
    )

    alder.refresh_from_db()
    renewed = ServiceContract.objects.get(renewed_from=alder)
    assert alder.status == ContractStatus.ENDED
    # The first-term discount ends: the next term is at the plan's $500.00, 21 Mar 2025 to
    # 20 Mar 2026 (twelve months less a day).
    assert (renewed.monthly_price, renewed.discount_percent) == (Decimal("500.00"), Decimal(0))
    assert (renewed.starts_on, renewed.ends_on) == (dt.date(2025, 3, 21), dt.date(2026, 3, 20))
    event = ClientEvent.objects.get(kind=ClientEventKind.CONTRACT_RENEWED)
    assert event.by == manager
    assert (
        escape(
            "Renewed Alder Dental's Gold contract from 2025-03-21 to 2026-03-20 at $500.00 a month."
        )
        in response.content.decode()
    )


def test_cancelling_from_the_list_records_the_reason(
    book: dict[str, ServiceContract], manager_client: HttpClient
) -> None:
    birch = book["birch"]

    response = manager_client.post(
        reverse("insights:cancel"),
        {"contract": birch.pk, "reason": "  Closing the office ", "confirm": "on"},
        follow=True,
    )

    birch.refresh_from_db()
    assert (birch.status, birch.end_reason) == (ContractStatus.CANCELLED, "Closing the office")
    assert escape("Cancelled Birch Legal's Silver contract") in response.content.decode()


def _unchanged() -> list[dict[str, Any]]:
    return list(ServiceContract.objects.order_by("pk").values())


@pytest.mark.parametrize(
    ("action", "post", "said", "status"),
    [
        ("renew", {"confirm": "on"}, "Say which contract.", 302),
        ("renew", {"contract": "alder"}, "Tick the box to confirm the renewal.", 422),
        ("renew", {"contract": "999999", "confirm": "on"}, "That contract is not active", 302),
        ("renew", {"contract": "²", "confirm": "on"}, "That contract is not active", 302),
        ("renew", {"contract": "-3", "confirm": "on"}, "That contract is not active", 302),
        ("renew", {"contract": "fir", "confirm": "on"}, "That contract is not active", 302),
        ("cancel", {"contract": "birch", "confirm": "on"}, "Give a reason for cancelling.", 422),
        (
            "cancel",
            {"contract": "birch", "reason": "   ", "confirm": "on"},
            "Give a reason for cancelling.",
            422,
        ),
        ("cancel", {"contract": "birch", "reason": "Gone"}, "Tick the box to confirm", 422),
        (
            "cancel",
            {"contract": "birch", "reason": "x" * 301, "confirm": "on"},
            "at most 300 characters",
            422,
        ),
    ],
)
def test_bad_input_changes_nothing_and_says_why(
    book: dict[str, ServiceContract],
    manager_client: HttpClient,
    action: str,
    post: dict[str, str],
    said: str,
    status: int,
) -> None:
    if post.get("contract") in book:
        post = {**post, "contract": str(book[post["contract"]].pk)}
    before = _unchanged()

    response = manager_client.post(reverse(f"insights:{action}"), post)

    assert response.status_code == status
    if status == 302:
        response = manager_client.get(response["Location"])
    assert "Nothing was changed." in response.content.decode()
    assert said in response.content.decode()
    assert _unchanged() == before


def test_an_unknown_contract_s_confirmation_sends_back_to_the_list(
    now: dt.datetime, manager_client: HttpClient
) -> None:
    response = manager_client.get(reverse("insights:renewal_confirm", args=[999999]), follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    assert "That contract is not active" in response.content.decode()


@pytest.mark.parametrize("action", ["renew", "cancel"])
def test_an_action_answers_get_with_405(
    book: dict[str, ServiceContract], manager_client: HttpClient, action: str
) -> None:
    response = manager_client.get(reverse(f"insights:{action}"), {"contract": book["alder"].pk})
    assert response.status_code == 405
    assert book["alder"].__class__.objects.get(pk=book["alder"].pk).is_active


@pytest.mark.parametrize("action", ["renew", "cancel"])
def test_a_consultant_cannot_renew_or_cancel(
    book: dict[str, ServiceContract], consultant_client: HttpClient, action: str
) -> None:
    post = {"contract": book["alder"].pk, "reason": "No", "confirm": "on"}
    assert consultant_client.post(reverse(f"insights:{action}"), post).status_code == 403
    assert (
        consultant_client.get(
            reverse("insights:renewal_confirm", args=[book["alder"].pk])
        ).status_code
        == 403
    )
    assert ServiceContract.objects.get(pk=book["alder"].pk).is_active


def test_anonymous_cannot_renew(book: dict[str, ServiceContract], anon_client: HttpClient) -> None:
    response = anon_client.post(
        reverse("insights:renew"), {"contract": book["alder"].pk, "confirm": "on"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert ServiceContract.objects.get(pk=book["alder"].pk).is_active


# --- The Monday email -------------------------------------------------------------------------
def test_the_weekly_email_lists_the_renewals_for_each_manager(
    book: dict[str, ServiceContract], manager: User, consultant: User, mailoutbox: list[Any]
) -> None:
    # Not sent: a manager who left (inactive) and one without an address.
    for username, fields in [("gone", {"is_active": False}), ("blank", {"email": ""})]:
        other = User.objects.create_user(username, email=f"{username}@practice.example")
        other.groups.set(manager.groups.all())
        User.objects.filter(pk=other.pk).update(**fields)

    with committed():
        assert renewals_digest_send(NOW) == 1

    (message,) = mailoutbox
    assert message.to == ["alice@practice.example"]  # not Bob: consultants get no insights
    assert message.subject == "Renewals: 3 contracts end by 9 May 2025"
    body = message.body
    assert "Contracts ending between 10 Mar 2025 and 9 May 2025: 3 (2 renew automatically)." in body
    assert (
        "- Alder Dental: Gold, ends 20 Mar 2025\n  Renews automatically\n"
        "  Now $450.00 a month (10% off); after renewal $500.00 a month (the first-term "
        "discount ends)\n  Client told 18 Feb 2025" in body
    )
    assert "- Birch Legal: Silver, ends 24 Apr 2025\n  Renewed by hand only" in body
    assert "after renewal $270.00 a month\n" in body
    assert "Client's notice due 9 Apr 2025" in body
    assert body.index("Alder") < body.index("Birch") < body.index("Cedar")
    assert "Dogwood" not in body
    assert "Elm" not in body
    assert "Fir" not in body
    assert "http://127.0.0.1:8000/insights/renewals/" in body
    html = message.alternatives[0][0]
    assert "<td>Alder Dental</td>" in html
    assert "$500.00 (discount ends)" in html


def test_the_weekly_email_says_when_nothing_ends(
    now: dt.datetime, manager: User, mailoutbox: list[Any]
) -> None:
    with committed():
        assert renewals_weekly_task() == 1
    (message,) = mailoutbox
    assert message.subject == "Renewals: 0 contracts end by 9 May 2025"
    assert "No contract ends in the next 60 days." in message.body


def test_the_weekly_email_runs_on_monday_mornings() -> None:
    task = PeriodicTask.objects.get(task="insights.tasks.renewals_weekly_task")
    crontab = task.crontab
    assert crontab is not None
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "7", "1")
    assert task.enabled


def test_the_weekly_email_goes_once_a_week_whatever_the_retries(
    now: dt.datetime, manager: User, mailoutbox: list[Any]
) -> None:
    # NOW is Monday 10 March 2025: a retried task that day, and on Sunday 16th, send nothing;
    # the next Monday's run sends the next digest.
    with committed():
        assert renewals_digest_send(NOW) == 1
        assert renewals_digest_send(NOW + dt.timedelta(hours=2)) == 0
        assert renewals_digest_send(NOW + 6 * DAY) == 0
        assert renewals_digest_send(NOW + 7 * DAY) == 1
    assert len(mailoutbox) == 2
