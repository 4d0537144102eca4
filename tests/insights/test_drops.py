"""Drop candidates: who turned down two offers or opted out, ranked by revenue per hour of work
over the last year, dropped (with a reason) and reinstated from the page; and the manager's
override that opens a ticket for a dropped client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientEventKind,
    ClientStatus,
)
from offers.models import OfferStatus
from tests.conftest import NOW, TODAY
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferFactory,
    TicketFactory,
    TimeEntryFactory,
)
from tickets.models import Ticket, TicketEventKind
from tickets.services import TicketError, ticket_open

pytestmark = pytest.mark.django_db

PAGE = "/insights/drops/"
DAY = dt.timedelta(days=1)


def _offers(client: Client, *statuses: str, expires_in: int = -10) -> None:
    """Offers to `client` made 30 days ago, one per status, expiring `expires_in` days from NOW."""
    for status in statuses:
        made = NOW - 30 * DAY
        OfferFactory(
            client=client, status=status, created_at=made, expires_at=NOW + expires_in * DAY
        )


def _work(client: Client, *minutes: int, days_ago: int = 20) -> Ticket:
    """A ticket of `client` with time entries of these minutes, `days_ago` days before TODAY."""
    ticket = TicketFactory(client=client, opened_at=NOW - days_ago * DAY)
    for m in minutes:
        TimeEntryFactory(ticket=ticket, minutes=m, work_date=TODAY - dt.timedelta(days=days_ago))
    return ticket


def _charge(client: Client, kind: str, amount: str, days_ago: int = 20) -> None:
    ChargeFactory(
        client=client, kind=kind, amount=Decimal(amount), occurred_at=NOW - days_ago * DAY
    )


@pytest.fixture
def practice(now: dt.datetime) -> dict[str, Client]:
    """Clients worked out by hand (NOW is 10 March 2025; the year counted starts 10 March 2024).

    Candidates, lowest revenue per hour first:
    - Ridge: opted out 40 days ago, no offers turned down. Revenue $120.00 labour + $80.00
      overage = $200.00; 90 + 120 minutes = 210 min = 3.50 h; $200.00 / 3.5 = $57.142… -> $57.14.
    - Quarry: 1 declined + 1 expired = 2. $250.00 labour over 150 min = 2.50 h: $100.00.
    - Pinecrest: 2 declined. $300.00 labour + $75.00 paid priority = $375.00 (a $100.00 contract
      fee does not count, nor $1,000.00 of labour 400 days ago); 60 + 120 = 180 min = 3.00 h
      (not the 600 minutes of March 2024, before the year): $375.00 / 3 = $125.00.
    - Summit: 1 expired + 1 sent offer past its expiry the nightly task has not closed = 2;
      $500.00 of labour and no time logged: no rate, so last.
    Not candidates: Tarn (1 declined), Upland (3 declined but on contract), Vale (2 declined,
    dropped already), Willow (1 declined, 1 withdrawn, 1 accepted), Xeric (1 declined and an
    offer still open).
    """
    ridge = ClientFactory(name="Ridge Cafe", offers_opt_out=True)
    ClientEvent.objects.create(
        client=ridge, kind=ClientEventKind.OPTED_OUT, at=NOW - 40 * DAY, summary="Opted out"
    )
    _charge(ridge, ChargeKind.LABOUR, "120.00")
    _charge(ridge, ChargeKind.OVERAGE, "80.00")
    _work(ridge, 90, 120)

    quarry = ClientFactory(name="Quarry Books")
    _offers(quarry, OfferStatus.DECLINED, OfferStatus.EXPIRED)
    _charge(quarry, ChargeKind.LABOUR, "250.00")
    _work(quarry, 150)

    pinecrest = ClientFactory(name="Pinecrest Dental")
    _offers(pinecrest, OfferStatus.DECLINED, OfferStatus.DECLINED)
    _charge(pinecrest, ChargeKind.LABOUR, "300.00")
    _charge(pinecrest, ChargeKind.PAID_PRIORITY, "75.00")
    _charge(pinecrest, ChargeKind.CONTRACT_FEE, "100.00")
    _charge(pinecrest, ChargeKind.LABOUR, "1000.00", days_ago=400)
    _work(pinecrest, 600, days_ago=375)  # 1 March 2024
    _work(pinecrest, 60, days_ago=30)
    _work(pinecrest, 120, days_ago=5)  # the last ticket, opened 5 March 2025

    summit = ClientFactory(name="Summit Motors")
    _offers(summit, OfferStatus.EXPIRED)
    _offers(summit, OfferStatus.SENT, expires_in=-1)
    _charge(summit, ChargeKind.LABOUR, "500.00")

    tarn = ClientFactory(name="Tarn Studio")
    _offers(tarn, OfferStatus.DECLINED)
    upland = ContractFactory(client=ClientFactory(name="Upland Vets")).client
    _offers(upland, OfferStatus.DECLINED, OfferStatus.DECLINED, OfferStatus.DECLINED)
    vale = ClientFactory(name="Vale Print", status=ClientStatus.DROPPED, dropped_at=NOW - DAY)
    _offers(vale, OfferStatus.DECLINED, OfferStatus.DECLINED)
    willow = ClientFactory(name="Willow Yoga")
    _offers(willow, OfferStatus.DECLINED, OfferStatus.WITHDRAWN, OfferStatus.ACCEPTED)
    xeric = ClientFactory(name="Xeric Gardens")
    _offers(xeric, OfferStatus.DECLINED)
    _offers(xeric, OfferStatus.SENT, expires_in=5)
    return {
        "ridge": ridge,
        "quarry": quarry,
        "pinecrest": pinecrest,
        "summit": summit,
        "tarn": tarn,
        "upland": upland,
        "vale": vale,
    }


# --- The ranking ------------------------------------------------------------------------------
def test_candidates_are_ranked_by_revenue_per_hour_with_the_evidence(
    practice: dict[str, Client], manager_client: HttpClient
) -> None:
    response = manager_client.get(PAGE)

    assert response.status_code == 200
    rows = response.context["candidates"]
    evidence = [
        (
            r.client.name,
            r.client.offers_declined,
            r.client.offers_expired,
            r.client.offers_opt_out,
            r.revenue,
            r.hours,
            r.revenue_per_hour,
        )
        for r in rows
    ]
    assert evidence == [
        ("Ridge Cafe", 0, 0, True, Decimal("200.00"), Decimal("3.50"), Decimal("57.14")),
        ("Quarry Books", 1, 1, False, Decimal("250.00"), Decimal("2.50"), Decimal("100.00")),
        ("Pinecrest Dental", 2, 0, False, Decimal("375.00"), Decimal("3.00"), Decimal("125.00")),
        ("Summit Motors", 0, 2, False, Decimal("500.00"), Decimal("0.00"), None),
    ]
    html = response.content.decode()
    ridge = html[html.index(f'id="client-{practice["ridge"].pk}"') :]
    ridge = ridge[: ridge.index("</tr>")]
    assert "Yes, since 29 Jan 2025" in ridge  # 40 days before 10 March
    assert "$57.14" in ridge
    assert "3.50" in ridge
    pinecrest = rows[2].client
    last = Ticket.objects.filter(client=pinecrest).order_by("-opened_at").first()
    assert last is not None
    assert pinecrest.last_ticket_id == last.pk
    assert f"#{last.pk}</a> 5 Mar 2025" in html
    assert "no time logged" in html
    for name in ["Tarn", "Upland", "Xeric", "Willow"]:
        assert name not in html.split('id="dropped"')[0]


@pytest.mark.parametrize("extra", [0, 5])
def test_the_page_takes_the_same_queries_whatever_the_number_of_candidates(
    practice: dict[str, Client],
    manager_client: HttpClient,
    django_assert_num_queries: Any,
    extra: int,
) -> None:
    for n in range(extra):
        client = ClientFactory(name=f"More {n}", offers_opt_out=True)
        _charge(client, ChargeKind.LABOUR, "50.00")
        _work(client, 30, 30)
        ClientFactory(name=f"Gone {n}", status=ClientStatus.DROPPED, dropped_at=NOW - n * DAY)

    # 1 session, 1 user, 2 permissions (the user's and its groups', read once for the page),
    # 1 count for the pager, 1 page of candidates (every figure a subquery), 1 recent drops.
    with django_assert_num_queries(7):
        response = manager_client.get(PAGE)
    assert len(response.context["candidates"]) == 4 + extra
    assert len(response.context["dropped"]) == 1 + extra


def test_a_consultant_is_refused_the_page(consultant_client: HttpClient) -> None:
    assert consultant_client.get(PAGE).status_code == 403


def test_anonymous_gets_the_login_page(anon_client: HttpClient) -> None:
    response = anon_client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- Drop and undo ----------------------------------------------------------------------------
def test_a_manager_drops_a_candidate_with_a_reason_and_undoes_it(
    practice: dict[str, Client], manager: User, manager_client: HttpClient
) -> None:
    quarry = practice["quarry"]

    response = manager_client.post(
        reverse("insights:drop"), {"client": quarry.pk, "reason": " Never converts "}, follow=True
    )

    quarry.refresh_from_db()
    assert (quarry.status, quarry.drop_reason) == (ClientStatus.DROPPED, "Never converts")
    event = ClientEvent.objects.get(client=quarry, kind=ClientEventKind.DROPPED)
    assert event.by == manager
    html = response.content.decode()
    assert "Dropped Quarry Books: no more offers and no new tickets." in html
    dropped = html[html.index('id="dropped"') :]
    assert "Quarry Books" in dropped
    assert "Never converts" in dropped

    response = manager_client.post(
        reverse("insights:undo_drop"), {"client": quarry.pk}, follow=True
    )

    quarry.refresh_from_db()
    assert quarry.status == ClientStatus.ACTIVE
    assert ClientEvent.objects.filter(client=quarry, kind=ClientEventKind.REINSTATED).exists()
    assert "Reinstated Quarry Books." in response.content.decode()


def _standing() -> list[tuple[Any, ...]]:
    return list(Client.objects.order_by("pk").values_list("pk", "status", "drop_reason"))


@pytest.mark.parametrize(
    ("action", "post", "said"),
    [
        ("drop", {"client": "quarry"}, "Give a reason for dropping the client."),
        ("drop", {"client": "quarry", "reason": "   "}, "Give a reason for dropping the client."),
        ("drop", {"client": "quarry", "reason": "x" * 501}, "at most 500 characters"),
        ("drop", {"reason": "Gone"}, "Say which client."),
        ("drop", {"client": "999999", "reason": "Gone"}, "That client is not an active client"),
        ("drop", {"client": "²", "reason": "Gone"}, "That client is not an active client"),
        ("drop", {"client": "9" * 30, "reason": "Gone"}, "That client is not an active client"),
        ("drop", {"client": "vale", "reason": "Again"}, "That client is not an active client"),
        ("drop", {"client": "upland", "reason": "Gone"}, "holds an active contract; cancel it"),
        ("undo", {"client": "quarry"}, "That client is not dropped"),
        ("undo", {"client": "²"}, "That client is not dropped"),
        ("undo", {}, "Say which client."),
    ],
)
def test_bad_input_changes_nothing_and_says_why(
    practice: dict[str, Client],
    manager_client: HttpClient,
    action: str,
    post: dict[str, str],
    said: str,
) -> None:
    if post.get("client") in practice:
        post = {**post, "client": str(practice[post["client"]].pk)}
    before = _standing()
    url = reverse("insights:drop" if action == "drop" else "insights:undo_drop")

    response = manager_client.post(url, post, follow=True)

    assert response.redirect_chain == [(PAGE, 302)]
    html = response.content.decode()
    assert "Nothing was changed." in html
    assert escape(said) in html
    assert _standing() == before


@pytest.mark.parametrize("name", ["insights:drop", "insights:undo_drop"])
def test_the_actions_answer_get_with_405(
    practice: dict[str, Client], manager_client: HttpClient, name: str
) -> None:
    before = _standing()
    response = manager_client.get(reverse(name), {"client": practice["quarry"].pk, "reason": "x"})
    assert response.status_code == 405
    assert _standing() == before


@pytest.mark.parametrize("name", ["insights:drop", "insights:undo_drop"])
def test_a_consultant_cannot_drop_or_reinstate(
    practice: dict[str, Client], consultant_client: HttpClient, name: str
) -> None:
    before = _standing()
    for client in ("quarry", "vale"):
        post = {"client": practice[client].pk, "reason": "x"}
        assert consultant_client.post(reverse(name), post).status_code == 403
    assert _standing() == before


def test_anonymous_cannot_drop(practice: dict[str, Client], anon_client: HttpClient) -> None:
    before = _standing()
    response = anon_client.post(reverse("insights:drop"), {"client": practice["quarry"].pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _standing() == before


# --- A dropped client's ticket: the manager's override -----------------------------------------
@pytest.fixture
def dropped(now: dt.datetime) -> Client:
    client = ClientFactory(
        name="Vale Print", status=ClientStatus.DROPPED, dropped_at=NOW - DAY, drop_reason="Rude"
    )
    ContactFactory(client=client)
    return client


def _new_ticket(http: HttpClient, client: Client, **extra: str) -> Any:
    post = {"client": str(client.pk), "subject": "Printer", "priority": "normal", **extra}
    return http.post(reverse("tickets:new"), post)


def test_a_manager_is_offered_the_override_and_opens_the_ticket_with_it(
    dropped: Client, manager: User, manager_client: HttpClient
) -> None:
    refused = _new_ticket(manager_client, dropped)

    assert refused.status_code == 422
    html = refused.content.decode()
    assert "Open it anyway (manager&#x27;s override)" in html
    assert 'name="override_drop"' in html
    assert not Ticket.objects.exists()

    opened = _new_ticket(manager_client, dropped, override_drop="on")

    ticket = Ticket.objects.get()
    assert opened.status_code == 302
    assert ticket.client == dropped
    note = ticket.events.get(kind=TicketEventKind.NOTE)
    assert note.actor == manager
    assert note.body == (
        "Opened on a manager's override: Vale Print was dropped on 2025-03-09 (Rude)."
    )
    dropped.refresh_from_db()
    assert dropped.is_dropped  # the override opens one ticket; it does not reinstate


def test_a_manager_finds_a_dropped_client_in_the_picker_marked_dropped(
    dropped: Client, manager_client: HttpClient, consultant_client: HttpClient
) -> None:
    found = manager_client.get(reverse("tickets:client_lookup"), {"q": "vale"}).content.decode()
    assert f'data-client-id="{dropped.pk}"' in found
    assert "Dropped" in found
    hidden = consultant_client.get(reverse("tickets:client_lookup"), {"q": "vale"})
    assert f'data-client-id="{dropped.pk}"' not in hidden.content.decode()
    form = manager_client.get(reverse("tickets:new"), {"client": dropped.pk}).content.decode()
    assert 'id="client-picked-name">Vale Print</a>' in form
    assert 'name="override_drop"' in form


def test_a_consultant_is_refused_even_when_posting_the_override(
    dropped: Client, consultant_client: HttpClient
) -> None:
    response = _new_ticket(consultant_client, dropped, override_drop="on")

    assert response.status_code == 422
    html = response.content.decode()
    assert "Vale Print has been dropped; only a manager can open a ticket for it." in html
    assert 'name="override_drop"' not in html
    assert not Ticket.objects.exists()
    assert not Charge.objects.exists()


def test_ticket_open_refuses_a_dropped_client_unless_overridden(
    dropped: Client, manager: User
) -> None:
    with pytest.raises(TicketError, match="has been dropped"):
        ticket_open(client=dropped, subject="Printer", opened_by=manager)

    ticket = ticket_open(client=dropped, subject="Printer", opened_by=manager, override_drop=True)

    kinds = list(ticket.events.order_by("pk").values_list("kind", flat=True))
    assert kinds == [TicketEventKind.OPENED, TicketEventKind.NOTE]
