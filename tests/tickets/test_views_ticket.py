"""The ticket page over HTTP: what it shows, and each action on it (reply, note, time, status,
assignee, paid priority): done and said, or refused with the reason and nothing changed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from html import escape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contracts.models import Priority
from offers.models import OfferStatus
from tests.conftest import NOW, TODAY
from tests.factories import (
    ContactFactory,
    ContractTicketFactory,
    OfferFactory,
    TicketFactory,
    UserFactory,
)
from tests.tickets.workspace import LONG_MESSAGE, TOO_LONG, UNKNOWN, snapshot
from tickets.models import Ticket, TicketStatus, TimeEntry
from tickets.services import ticket_add_note, ticket_change_status, time_log

pytestmark = pytest.mark.django_db


# --- Bad input: 422, the reason shown, nothing changed ----------------------------------------
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
    before = snapshot()

    response = consultant_client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)

    assert response.status_code == 422
    html = response.content.decode()
    assert escape(message) in html
    assert "Nothing was changed" in html
    assert snapshot() == before


def test_time_the_service_refuses_is_shown_and_changes_nothing(
    now: dt.datetime, consultant_client: Any
) -> None:
    # The form allows 90 days back; the service refuses work from before the ticket existed.
    ticket = TicketFactory(opened_at=NOW - dt.timedelta(days=2))
    before = snapshot()

    response = consultant_client.post(
        reverse("tickets:time", args=[ticket.pk]),
        {"time-minutes": "30", "time-work_date": "2025-03-01"},
    )

    assert response.status_code == 422
    assert "Work cannot be logged before the ticket was opened." in response.content.decode()
    assert snapshot() == before


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
    before = snapshot()

    response = consultant_client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)

    assert response.status_code == 422
    assert snapshot() == before
    assert escape(message) in response.content.decode()


def test_contract_ticket_cannot_buy_priority_and_is_told_why(
    now: dt.datetime, consultant_client: Any
) -> None:
    ticket = ContractTicketFactory()
    before = snapshot()

    response = consultant_client.post(reverse("tickets:priority", args=[ticket.pk]))

    assert response.status_code == 422
    assert snapshot() == before
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
    ticket: Ticket, consultant_client: Any, rate_card: Any
) -> None:
    rate_card.hourly_rate = Decimal("120.00")
    rate_card.save()

    response = consultant_client.post(
        reverse("tickets:time", args=[ticket.pk]),
        {"time-minutes": "90", "time-work_date": TODAY.isoformat()},
        follow=True,
    )

    assert "90 min logged, $180.00 billed." in response.content.decode()
    assert TimeEntry.objects.get().charge.amount == 180


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
    before = snapshot()

    response = consultant_client.post(
        reverse("tickets:reply", args=[ticket.pk]), {"reply-body": "Hello?"}
    )

    assert response.status_code == 422
    assert "This ticket has no contact to reply to" in response.content.decode()
    assert snapshot() == before


# --- How the page is built ----------------------------------------------------------------------
def test_the_ticket_page_shows_tier_and_priority_badges_from_the_one_include(
    now: dt.datetime, consultant_client: Any
) -> None:
    ticket = ContractTicketFactory(priority=Priority.HIGH)

    html = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert '<span class="badge badge-tier-0">Contract</span>' in html
    assert '<span class="badge badge-priority-high">High</span>' in html


def test_each_form_on_the_page_posts_to_its_own_address(
    ticket: Ticket, consultant_client: Any
) -> None:
    html = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    for name, field in [
        ("reply", "reply-body"),
        ("note", "note-body"),
        ("time", "time-minutes"),
        ("status", "status-status"),
        ("assign", "assign-assignee"),
    ]:
        action = f'action="{reverse(f"tickets:{name}", args=[ticket.pk])}"'
        form = html[html.index(action) : html.index("</form>", html.index(action))]
        assert f'name="{field}"' in form, name
        assert 'name="csrfmiddlewaretoken"' in form, name
        assert 'type="submit"' in form, name
    assert 'type="date" name="time-work_date"' in html
    assert 'placeholder="Why (optional)"' in html


@pytest.mark.parametrize(
    ("data", "open_tab"),
    [({}, "reply"), ({"note-body": ""}, "note"), ({"time-minutes": "0"}, "time")],
    ids=["nothing-posted", "bad-note", "bad-time"],
)
def test_the_tabs_say_which_panel_they_control_and_a_refused_form_stays_open(
    ticket: Ticket, consultant_client: Any, data: dict[str, str], open_tab: str
) -> None:
    url = reverse("tickets:detail", args=[ticket.pk])
    if data:
        name = next(iter(data)).split("-")[0]
        data = {**data, "time-work_date": TODAY.isoformat()}
        response = consultant_client.post(reverse(f"tickets:{name}", args=[ticket.pk]), data)
    else:
        response = consultant_client.get(url)

    html = response.content.decode()
    for tab in ("reply", "note", "time"):
        selected = "true" if tab == open_tab else "false"
        assert (
            f'id="tab-{tab}-button" data-bs-toggle="tab" data-bs-target="#tab-{tab}" '
            f'type="button" role="tab" aria-controls="tab-{tab}" aria-selected="{selected}"'
        ) in html
        assert f'id="tab-{tab}" role="tabpanel" aria-labelledby="tab-{tab}-button"' in html
    assert f'tab-pane show active" id="tab-{open_tab}"' in html


# --- Staff and money, named and written as everywhere else --------------------------------------
def test_the_page_names_staff_by_name_or_else_by_login(
    ticket: Ticket, consultant_client: Any, other_consultant: User
) -> None:
    nameless = UserFactory(username="temp-tech")
    ticket_add_note(ticket=ticket, body="Looked at it", actor=nameless)
    time_log(ticket=ticket, consultant=nameless, minutes=30, work_date=TODAY)
    ticket_add_note(ticket=ticket, body="Me too", actor=other_consultant)

    html = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Internal note · temp-tech" in html
    assert "Internal note · Carol" in html
    assert "10 Mar · temp-tech · 30 min" in html
    assert f'<option value="{other_consultant.pk}">Carol</option>' in html


def test_assigning_says_who_by_name(
    ticket: Ticket, consultant_client: Any, other_consultant: User
) -> None:
    response = consultant_client.post(
        reverse("tickets:assign", args=[ticket.pk]),
        {"assign-assignee": other_consultant.pk},
        follow=True,
    )

    assert "Assigned to Carol." in response.content.decode()


def test_amounts_on_the_page_are_money(
    ticket: Ticket, consultant: User, consultant_client: Any, rate_card: Any
) -> None:
    rate_card.hourly_rate = Decimal("1234.50")
    rate_card.paid_priority_surcharge = Decimal("1500")
    rate_card.save()
    time_log(ticket=ticket, consultant=consultant, minutes=60, work_date=TODAY)

    html = consultant_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "Bob · 60 min · $1,234.50" in html
    assert "Client pays for priority ($1,500.00)" in html


def test_buying_priority_says_what_was_charged(ticket: Ticket, consultant_client: Any) -> None:
    response = consultant_client.post(reverse("tickets:priority", args=[ticket.pk]), follow=True)

    assert "Paid priority added: $75.00 charged to Bayside Dental." in response.content.decode()


def test_overage_logged_on_the_page_says_it_is_billed_with_the_month(
    now: dt.datetime, consultant_client: Any, contract: Any
) -> None:
    # The contract's plan includes 4 hours a month; 5 hours leave one for the monthly run.
    ticket = ContractTicketFactory(contract=contract, opened_at=NOW - dt.timedelta(days=1))

    response = consultant_client.post(
        reverse("tickets:time", args=[ticket.pk]),
        {"time-minutes": "300", "time-work_date": "2025-03-10", "time-after_hours": "on"},
        follow=True,
    )

    page = response.content.decode()
    assert "300 min logged, 240 covered by the contract, 60 overage, billed with the month." in page
    assert "300 min after hours (240 covered) · 60 min overage, billed with the month" in page
    entry = TimeEntry.objects.get()
    assert (entry.after_hours, entry.charge) == (True, None)
