"""The consultant workspace over HTTP: who may use each page, bad input, and the new-ticket form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Charge, ClientStatus
from contracts.models import Priority
from offers.models import OfferStatus
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import Ticket, TicketEvent, TicketStatus, TimeEntry
from tickets.services import ticket_add_note, ticket_change_status, time_log

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 3, 10, 14, 0, tzinfo=dt.UTC)
TODAY = dt.date(2025, 3, 10)  # in New York too: 10:00 EDT
UNKNOWN = 999_999


@pytest.fixture
def now(time_machine: Any) -> dt.datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def ticket(now: dt.datetime) -> Ticket:
    """A new transactional ticket with a contact to reply to."""
    contact = ContactFactory(client=ClientFactory(name="Bayside Dental"))
    return TicketFactory(client=contact.client, contact=contact, opened_at=NOW)


# --- Every URL, every persona -----------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    name: str
    method: str
    per_ticket: bool = False
    # Request data that the allowed user's request succeeds with.
    data: Callable[[Ticket, User], dict[str, Any]] = field(default=lambda t, u: {})

    def url(self, ticket: Ticket | None = None, pk: int | None = None) -> str:
        if not self.per_ticket:
            return reverse(f"tickets:{self.name}")
        return reverse(f"tickets:{self.name}", args=[pk or ticket.pk])  # type: ignore[union-attr]

    def __str__(self) -> str:
        return f"{self.method} {self.name}"


PAGES = [
    Page("queue", "get"),
    Page("take_next", "post"),
    Page("new", "get"),
    Page(
        "new",
        "post",
        data=lambda t, u: {"client": t.client_id, "subject": "Wi-Fi down", "priority": "high"},
    ),
    Page("client_lookup", "get", data=lambda t, u: {"q": "bays"}),
    Page("client_contacts", "get", data=lambda t, u: {"client": t.client_id}),
    Page("detail", "get", per_ticket=True),
    Page("status", "post", True, lambda t, u: {"status-status": TicketStatus.IN_PROGRESS}),
    Page("reply", "post", True, lambda t, u: {"reply-body": "On my way."}),
    Page("note", "post", True, lambda t, u: {"note-body": "Bring a spare router."}),
    Page("assign", "post", True, lambda t, u: {"assign-assignee": u.pk}),
    Page(
        "time",
        "post",
        True,
        lambda t, u: {"time-minutes": "30", "time-work_date": TODAY.isoformat()},
    ),
    Page("priority", "post", per_ticket=True),
]
POST_ONLY = [p for p in PAGES if p.method == "post" and p.name != "new"]
GET_ONLY = [p for p in PAGES if p.method == "get" and p.name != "new"]
PER_TICKET = [p for p in PAGES if p.per_ticket]


def test_every_workspace_url_is_in_the_table() -> None:
    from tickets.urls import urlpatterns

    assert {p.name for p in urlpatterns} == {p.name for p in PAGES}


def _request(http: Any, page: Page, ticket: Ticket, user: User | None, **extra: Any) -> Any:
    data = page.data(ticket, user) if user else {}
    return getattr(http, page.method)(page.url(ticket), data, **extra)


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_consultant_may_use_every_page(
    page: Page, ticket: Ticket, consultant: User, consultant_client: Any
) -> None:
    response = _request(consultant_client, page, ticket, consultant)

    if page.method == "get":
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/tickets/")


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_manager_may_use_every_page_too(
    page: Page, ticket: Ticket, manager: User, manager_client: Any
) -> None:
    response = _request(manager_client, page, ticket, manager)

    assert response.status_code == (200 if page.method == "get" else 302)


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_staff_without_a_role_are_refused_every_page(
    page: Page, ticket: Ticket, roleless: User, password: str, client: Any
) -> None:
    client.force_login(roleless)
    before = _snapshot()

    response = _request(client, page, ticket, roleless)

    assert response.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_anonymous_visitor_is_sent_to_log_in(page: Page, ticket: Ticket, anon_client: Any) -> None:
    before = _snapshot()

    response = _request(anon_client, page, ticket, None)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert _snapshot() == before


@pytest.mark.parametrize("page", POST_ONLY, ids=str)
def test_get_on_a_state_change_is_not_allowed(
    page: Page, ticket: Ticket, consultant_client: Any
) -> None:
    before = _snapshot()

    response = consultant_client.get(page.url(ticket))

    assert response.status_code == 405
    assert _snapshot() == before


@pytest.mark.parametrize("page", GET_ONLY, ids=str)
def test_post_on_a_read_only_page_is_not_allowed(
    page: Page, ticket: Ticket, consultant_client: Any
) -> None:
    assert consultant_client.post(page.url(ticket)).status_code == 405


@pytest.mark.parametrize("page", PER_TICKET, ids=str)
def test_unknown_ticket_is_not_found(
    page: Page, ticket: Ticket, consultant: User, consultant_client: Any
) -> None:
    data = page.data(ticket, consultant)

    response = getattr(consultant_client, page.method)(page.url(pk=UNKNOWN), data)

    assert response.status_code == 404


# --- Bad input: 422, the reason shown, nothing changed ----------------------------------------
def _snapshot() -> tuple[Any, ...]:
    """Every row a workspace request could write."""
    return (
        list(Ticket.objects.order_by("pk").values()),
        TicketEvent.objects.count(),
        TimeEntry.objects.count(),
        Charge.objects.count(),
    )


TOO_LONG = "x" * 20_001
LONG_MESSAGE = "Ensure this value has at most 20000 characters (it has 20001)."


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("reply", {"reply-body": ""}, "This field is required."),
        ("reply", {"reply-body": "   \n  "}, "This field is required."),
        ("reply", {"reply-body": TOO_LONG}, LONG_MESSAGE),
        ("note", {"note-body": ""}, "This field is required."),
        ("note", {"note-body": TOO_LONG}, LONG_MESSAGE),
        ("status", {"status-status": TicketStatus.CLOSED}, "Select a valid choice."),
        ("status", {"status-status": "on_fire"}, "Select a valid choice."),
        (
            "status",
            {"status-status": TicketStatus.IN_PROGRESS, "status-note": TOO_LONG[:2001]},
            "at most 2000",
        ),
        ("assign", {"assign-assignee": str(UNKNOWN)}, "Select a valid choice."),
        (
            "time",
            {"time-minutes": "-5", "time-work_date": "2025-03-10"},
            "Log at least one minute.",
        ),
        ("time", {"time-minutes": "0", "time-work_date": "2025-03-10"}, "Log at least one minute."),
        (
            "time",
            {"time-minutes": "100000", "time-work_date": "2025-03-10"},
            "At most 16 hours in one",
        ),
        ("time", {"time-minutes": "abc", "time-work_date": "2025-03-10"}, "Enter a whole number."),
        (
            "time",
            {"time-minutes": "30", "time-work_date": "2025-03-11"},
            "That day has not happened yet.",
        ),
        ("time", {"time-minutes": "30", "time-work_date": "2024-12-01"}, "Log work within 90 days"),
        ("time", {"time-minutes": "30", "time-work_date": "yesterday"}, "Enter a valid date."),
        ("time", {"time-minutes": "30"}, "This field is required."),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    ticket: Ticket, consultant_client: Any, name: str, data: dict[str, str], message: str
) -> None:
    before = _snapshot()

    response = consultant_client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert escape(message) in html
    assert "Nothing was changed" in html
    assert _snapshot() == before


def test_time_the_service_refuses_is_shown_and_changes_nothing(
    now: dt.datetime, consultant_client: Any
) -> None:
    # The form allows 90 days back; the service refuses work from before the ticket existed.
    ticket = TicketFactory(opened_at=NOW - dt.timedelta(days=2))
    before = _snapshot()

    response = consultant_client.post(
        reverse("tickets:time", args=[ticket.pk]),
        {"time-minutes": "30", "time-work_date": "2025-03-01"},
    )

    assert response.status_code == 422
    assert "Work cannot be logged before the ticket was opened." in response.content.decode()
    assert _snapshot() == before


# The service refuses these on a closed ticket; the consultant must be told why.
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("reply", {"reply-body": "Hello?"}, "is closed; reopen it first"),
        (
            "time",
            {"time-minutes": "30", "time-work_date": "2025-03-10"},
            "is closed; reopen it first",
        ),
        ("status", {"status-status": TicketStatus.IN_PROGRESS}, "Select a valid choice."),
        ("assign", {"assign-assignee": ""}, "is closed; reopen it first"),
    ],
)
def test_work_on_a_closed_ticket_is_refused_with_the_reason(
    now: dt.datetime,
    consultant: User,
    consultant_client: Any,
    name: str,
    data: dict[str, str],
    message: str,
) -> None:
    contact = ContactFactory()
    ticket = TicketFactory(
        client=contact.client,
        contact=contact,
        assignee=consultant,
        status=TicketStatus.CLOSED,
        resolved_at=NOW,
        closed_at=NOW,
    )
    before = _snapshot()

    response = consultant_client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)

    assert response.status_code == 422
    assert _snapshot() == before
    assert escape(message) in response.content.decode()


def test_contract_ticket_cannot_buy_priority_and_is_told_why(
    now: dt.datetime, consultant_client: Any
) -> None:
    ticket = ContractTicketFactory()
    before = _snapshot()

    response = consultant_client.post(reverse("tickets:priority", args=[ticket.pk]))

    assert response.status_code == 422
    assert _snapshot() == before
    assert "Contract tickets are served first already" in response.content.decode()


def test_reply_is_sent_and_the_page_says_so(
    ticket: Ticket,
    consultant_client: Any,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = reverse("tickets:reply", args=[ticket.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = consultant_client.post(
            url, {"reply-body": "Restart it.", "reply-wait_on_client": "on"}
        )

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING_ON_CLIENT
    assert [m.to for m in mailoutbox] == [[ticket.contact.email]]
    page = consultant_client.get(response["Location"]).content.decode()
    assert f"Reply sent to {ticket.contact.email}." in page
    assert "Restart it." in page


def test_logging_time_reports_what_was_billed(
    ticket: Ticket, consultant_client: Any, settings: Any
) -> None:
    settings.HOURLY_RATE = Decimal("120.00")

    response = consultant_client.post(
        reverse("tickets:time", args=[ticket.pk]),
        {"time-minutes": "90", "time-work_date": TODAY.isoformat()},
        follow=True,
    )

    assert "90 min logged, $180.00 billed." in response.content.decode()
    assert TimeEntry.objects.get().charge.amount == 180


# --- Take next --------------------------------------------------------------------------------
def test_take_next_opens_the_ticket_it_claimed(
    ticket: Ticket, consultant: User, consultant_client: Any
) -> None:
    response = consultant_client.post(reverse("tickets:take_next"), follow=True)

    assert response.redirect_chain == [(reverse("tickets:detail", args=[ticket.pk]), 302)]
    assert f"You took #{ticket.pk}" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).assignee == consultant


def test_take_next_with_nobody_waiting_says_so(now: dt.datetime, consultant_client: Any) -> None:
    response = consultant_client.post(reverse("tickets:take_next"), follow=True)

    assert response.redirect_chain == [(reverse("tickets:queue"), 302)]
    assert "Nobody is waiting: every ticket in line is taken." in response.content.decode()


# --- Queue page -------------------------------------------------------------------------------
def test_queue_ignores_bad_filters_and_says_so(ticket: Ticket, consultant_client: Any) -> None:
    response = consultant_client.get(
        reverse("tickets:queue"),
        {"tier": "nine", "assignee": str(UNKNOWN), "priority": "meh", "q": "x" * 101},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "(that filter was ignored)" in html
    assert ticket.subject in html  # every filter dropped: the whole line shows


@pytest.mark.parametrize(
    "after",
    ["nonsense", "0~-~0~0~0", "0~99999999999999999999~0~1~0", "0~-~-99999999999999999999~1~0"],
)
def test_queue_with_a_broken_page_link_shows_the_start_of_the_line(
    ticket: Ticket, consultant_client: Any, after: str
) -> None:
    response = consultant_client.get(reverse("tickets:queue"), {"after": after})

    assert response.status_code == 200
    html = response.content.decode()
    assert "That page link is broken; showing the start of the queue." in html
    assert ticket.subject in html


# --- Ticket page ------------------------------------------------------------------------------
def test_ticket_page_queries_do_not_grow_with_its_history(
    ticket: Ticket, consultant: User, consultant_client: Any
) -> None:
    url = reverse("tickets:detail", args=[ticket.pk])
    ticket_add_note(ticket=ticket, body="First look", actor=consultant)
    time_log(ticket=ticket, consultant=consultant, minutes=15, work_date=TODAY)
    with CaptureQueriesContext(connection) as short_history:
        consultant_client.get(url)

    for n in range(10):
        ticket_add_note(ticket=ticket, body=f"Note {n}", actor=consultant)
        time_log(ticket=ticket, consultant=consultant, minutes=15, work_date=TODAY)
    with CaptureQueriesContext(connection) as long_history:
        response = consultant_client.get(url)

    assert "Note 9" in response.content.decode()
    assert len(long_history) == len(short_history), [q["sql"] for q in long_history]


def test_the_ticket_page_tells_whoever_answers_that_the_client_has_an_open_offer(
    now: dt.datetime, consultant_client: Any
) -> None:
    offer = OfferFactory(plan__name="Essentials")
    ticket = TicketFactory(client=offer.client)
    OfferFactory(status=OfferStatus.DECLINED, client=TicketFactory().client)

    page = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert 'id="open-offer"' in page
    assert "<strong>Essentials</strong> at $258.10 a month (11% off)" in page


@pytest.mark.parametrize(
    "offer_fields",
    [
        {"status": OfferStatus.DECLINED},
        # Not in the inbox yet: made by a campaign run, its email still queued.
        {"status": OfferStatus.PENDING, "sent_at": None},
        # Past its time, though the nightly task has not closed it yet.
        {"expires_at": NOW - dt.timedelta(hours=1)},
    ],
    ids=["declined", "not-sent-yet", "expired"],
)
def test_the_ticket_page_mentions_no_offer_the_client_cannot_act_on(
    now: dt.datetime, consultant_client: Any, offer_fields: dict[str, Any]
) -> None:
    offer = OfferFactory(**offer_fields)
    ticket = TicketFactory(client=offer.client)

    page = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert 'id="open-offer"' not in page


def test_the_activity_names_statuses_as_people_read_them(
    now: dt.datetime, consultant: User, consultant_client: Any
) -> None:
    ticket = TicketFactory(status=TicketStatus.IN_PROGRESS)
    ticket_change_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=consultant, note="")

    page = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "In progress → Resolved" in page
    assert "in_progress →" not in page


def test_the_new_ticket_form_says_what_priority_costs(consultant_client: Any) -> None:
    page = consultant_client.get(reverse("tickets:new")).content.decode()

    assert "Client pays $75.00 for priority service" in page


# --- Opening a ticket -------------------------------------------------------------------------
def test_new_ticket_form_opens_the_ticket_and_shows_it(
    now: dt.datetime, consultant: User, consultant_client: Any
) -> None:
    contact = ContactFactory()
    other = ContactFactory(client=contact.client, is_primary=False)

    response = consultant_client.post(
        reverse("tickets:new"),
        {
            "client": contact.client_id,
            "contact": other.pk,
            "subject": "  Phones   dead ",
            "description": "All of them.",
            "priority": "high",
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert (ticket.client, ticket.contact, ticket.subject, ticket.priority) == (
        contact.client,
        other,
        "Phones dead",
        "high",
    )
    assert ticket.events.get().actor == consultant


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "Help"}, "Pick a client from the list."),
        ({"client": "abc", "subject": "Help"}, "Pick an active client from the list."),
        ({"client": str(UNKNOWN), "subject": "Help"}, "Pick an active client from the list."),
        ({"client": "{client}", "subject": "   "}, "This field is required."),
        ({"client": "{client}", "subject": "x" * 201}, "at most 200 characters"),
        ({"client": "{client}", "subject": "Help", "description": TOO_LONG}, LONG_MESSAGE),
        ({"client": "{client}", "subject": "Help", "priority": "asap"}, "Select a valid choice."),
    ],
)
def test_new_ticket_form_refuses_bad_input(
    now: dt.datetime, consultant_client: Any, data: dict[str, str], message: str
) -> None:
    client = ClientFactory()
    data = {k: v.replace("{client}", str(client.pk)) for k, v in data.items()}

    response = consultant_client.post(reverse("tickets:new"), data)

    assert response.status_code == 422
    assert escape(message) in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_refuses_a_dropped_client(now: dt.datetime, consultant_client: Any) -> None:
    dropped = ClientFactory(status=ClientStatus.DROPPED, dropped_at=NOW)

    response = consultant_client.post(
        reverse("tickets:new"), {"client": dropped.pk, "subject": "Help", "priority": "normal"}
    )

    assert response.status_code == 422
    assert "Pick an active client from the list." in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_refuses_a_contact_of_another_client(
    now: dt.datetime, consultant_client: Any
) -> None:
    client = ClientFactory()
    stranger = ContactFactory()

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": client.pk, "contact": stranger.pk, "subject": "Help", "priority": "normal"},
    )

    assert response.status_code == 422
    assert response.context["form"].has_error("contact")
    assert "Select a valid choice." in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_shows_why_a_contract_client_cannot_pay_for_priority(
    now: dt.datetime, consultant_client: Any
) -> None:
    contract = ContractFactory()

    response = consultant_client.post(
        reverse("tickets:new"),
        {
            "client": contract.client_id,
            "subject": "Help",
            "priority": "normal",
            "paid_priority": "on",
        },
    )

    assert response.status_code == 422
    assert "is on a contract and is served first already" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Charge.objects.exists()


def test_new_ticket_form_opened_for_a_client_shows_that_client(
    now: dt.datetime, consultant_client: Any
) -> None:
    contract = ContractFactory(client=ClientFactory(name="Harbor Vets"))

    response = consultant_client.get(reverse("tickets:new"), {"client": contract.client_id})

    html = response.content.decode()
    assert '<span class="fs-5 fw-semibold" id="client-picked-name">Harbor Vets</span>' in html
    assert response.context["chosen"].on_contract


def test_client_lookup_finds_matching_active_clients_only(
    now: dt.datetime, consultant_client: Any
) -> None:
    on_contract = ContractFactory(client=ClientFactory(name="Harbor Vets")).client
    transactional = ClientFactory(name="Harbor Bakery")
    ClientFactory(name="Harbor Closed", status=ClientStatus.DROPPED, dropped_at=NOW)
    ClientFactory(name="Inland Motors")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": " harbor "})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'data-client-id="{transactional.pk}"' in html
    assert f'data-client-id="{on_contract.pk}"' in html
    assert "Harbor Closed" not in html
    assert "Inland Motors" not in html
    assert html.index("Harbor Bakery") < html.index("Harbor Vets")  # alphabetical
    assert (
        f'data-client-id="{on_contract.pk}" data-client-name="Harbor Vets" data-on-contract="1"'
        in html
    )


def test_client_lookup_matches_a_contact_email(now: dt.datetime, consultant_client: Any) -> None:
    contact = ContactFactory(email="pat@greenleaf.example")
    ContactFactory(client=contact.client, is_primary=False, email="sam@greenleaf.example")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "greenleaf"})

    html = response.content.decode()
    assert html.count(f'data-client-id="{contact.client_id}"') == 1  # once, not per contact


@pytest.mark.parametrize("term", ["", "h", "  h  "])
def test_client_lookup_waits_for_two_letters(
    now: dt.datetime, consultant_client: Any, term: str
) -> None:
    ClientFactory(name="Harbor Vets")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": term})

    assert response.status_code == 200
    assert "data-client-id" not in response.content.decode()


def test_client_lookup_with_a_nul_byte_is_answered(
    now: dt.datetime, consultant_client: Any
) -> None:
    # PostgreSQL refuses NUL in a string parameter; the lookup must not pass one through.
    ClientFactory(name="Harbor Vets")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "har\x00bor"})

    assert response.status_code == 200
    # The NUL is dropped, so the rest of what was typed still finds the client.
    assert 'data-client-name="Harbor Vets"' in response.content.decode()


def test_client_lookup_says_when_nothing_matches(now: dt.datetime, consultant_client: Any) -> None:
    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "zebra"})

    assert "No active client matches “zebra”." in response.content.decode()


def test_client_contacts_lists_that_clients_contacts_only(
    now: dt.datetime, consultant_client: Any
) -> None:
    mine = ContactFactory(name="Pat Lee")
    ContactFactory(name="Someone Else")

    response = consultant_client.get(reverse("tickets:client_contacts"), {"client": mine.client_id})

    html = response.content.decode()
    assert "<html" not in html
    assert f'<option value="{mine.pk}">Pat Lee' in html
    assert "Someone Else" not in html


@pytest.mark.parametrize("raw", ["", "abc", "99999999999999999999"])
def test_client_contacts_with_a_bad_client_lists_no_one(
    now: dt.datetime, consultant_client: Any, raw: str
) -> None:
    ContactFactory()

    response = consultant_client.get(reverse("tickets:client_contacts"), {"client": raw})

    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1  # "Primary contact" only


@pytest.mark.parametrize("raw", ["abc", str(UNKNOWN), "99999999999999999999"])
def test_new_ticket_form_for_an_unknown_client_starts_blank(
    now: dt.datetime, consultant_client: Any, raw: str
) -> None:
    response = consultant_client.get(reverse("tickets:new"), {"client": raw})

    assert response.status_code == 200
    assert response.context["chosen"] is None


@pytest.mark.parametrize("status", list(TicketStatus))
def test_ticket_page_shows_a_ticket_in_every_status(
    now: dt.datetime, consultant_client: Any, status: str
) -> None:
    ticket = ContractTicketFactory(
        status=status,
        sla_paused_at=NOW if status == TicketStatus.WAITING_ON_CLIENT else None,
        resolved_at=NOW if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else None,
        closed_at=NOW if status == TicketStatus.CLOSED else None,
    )

    response = consultant_client.get(reverse("tickets:detail", args=[ticket.pk]))

    assert response.status_code == 200
    assert f'<span class="badge text-bg-dark" id="ticket-status">{ticket.get_status_display()}' in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("answered_after", "resolved_after", "shown"),
    [
        (dt.timedelta(hours=1), dt.timedelta(hours=5), ["✓", "✓"]),
        (dt.timedelta(hours=15), None, ["Late: answered"]),
        (dt.timedelta(hours=2), dt.timedelta(hours=30), ["✓", "Late: resolved"]),
    ],
)
def test_the_ticket_page_says_whether_each_deadline_was_met(
    now: dt.datetime,
    consultant_client: Any,
    answered_after: dt.timedelta,
    resolved_after: dt.timedelta | None,
    shown: list[str],
) -> None:
    # Response due 4 hours after opening, resolution 24 hours after (ContractTicketFactory).
    opened = NOW - dt.timedelta(days=2)
    ticket = ContractTicketFactory(
        opened_at=opened,
        first_response_at=opened + answered_after,
        status=TicketStatus.RESOLVED if resolved_after else TicketStatus.IN_PROGRESS,
        resolved_at=opened + resolved_after if resolved_after else None,
    )

    content = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    service_level = content[content.index("Service level") :]
    marks = [
        m for m in ("✓", "Late: answered", "Late: resolved") for _ in range(service_level.count(m))
    ]
    assert sorted(marks) == sorted(shown)


def test_reply_on_a_ticket_without_a_contact_says_why(
    now: dt.datetime, consultant_client: Any
) -> None:
    ticket = TicketFactory(contact=None)
    before = _snapshot()

    response = consultant_client.post(
        reverse("tickets:reply", args=[ticket.pk]), {"reply-body": "Hello?"}
    )

    assert response.status_code == 422
    assert "This ticket has no contact to reply to" in response.content.decode()
    assert _snapshot() == before


# Every field name any workspace form reads, each given a NUL byte, SQL, a bidi override and a
# number too large for any integer column.
JUNK = dict.fromkeys(
    [
        *("client", "contact", "subject", "description", "priority", "paid_priority"),
        *("q", "tier", "assignee", "waiting", "after"),
        *("status-status", "status-note", "reply-body", "reply-wait_on_client", "note-body"),
        *("assign-assignee", "time-minutes", "time-work_date", "time-note"),
    ],
    "\x00' OR 1=1 --\u202e99999999999999999999",
)


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_junk_input_never_breaks_a_page(page: Page, ticket: Ticket, consultant_client: Any) -> None:
    response = getattr(consultant_client, page.method)(page.url(ticket), JUNK)

    # The test client re-raises a server error; any answer at all is a handled one.
    assert response.status_code in (200, 302, 422)


def test_opening_a_ticket_for_a_priority_the_plan_sets_no_target_for_is_answered(
    now: dt.datetime, consultant_client: Any
) -> None:
    # The plan admin requires at least one target, not one per priority.
    plan = PlanFactory(targets={Priority.NORMAL: (240, 1440)})
    contract = ContractFactory(plan=plan)

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": contract.client_id, "subject": "Mouse sticky", "priority": Priority.LOW},
    )

    assert response.status_code in (302, 422)
    if response.status_code == 422:
        assert not Ticket.objects.exists()
        assert "Low" in response.content.decode()
