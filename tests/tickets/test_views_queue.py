"""The queue page and "take next" over HTTP: bad filters and page links, the htmx fragment and
its caching, the back button."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from contracts.models import Priority
from tests.factories import (
    ContractTicketFactory,
    PaidPriorityTicketFactory,
    TicketFactory,
    UserFactory,
)
from tests.tickets.workspace import UNKNOWN
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


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


def test_an_invalid_filter_is_described_where_the_field_says(
    ticket: Ticket, consultant_client: Any
) -> None:
    html = consultant_client.get(reverse("tickets:queue"), {"tier": "nine"}).content.decode()

    # The select points at its error (aria-describedby); the error is under that id.
    assert 'aria-describedby="id_tier_error"' in html
    assert '<span id="id_tier_error">Select a valid choice.' in html


# --- The htmx fragment, caches and the back button ----------------------------------------------
PERSONAS = ["consultant_client", "manager_client"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_queue_varies_on_hx_request(
    ticket: Ticket, persona: str, htmx: bool, request: pytest.FixtureRequest
) -> None:
    # One URL answers with the page or the table alone: a cache must keep them apart.
    http = request.getfixturevalue(persona)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = http.get(reverse("tickets:queue"), **headers)

    assert response.status_code == 200
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"HX-Request", "HX-History-Restore-Request"} <= vary
    assert ("<html" in response.content.decode()) is not htmx


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_back_button_gets_the_whole_page_not_the_fragment(
    ticket: Ticket, persona: str, request: pytest.FixtureRequest
) -> None:
    # htmx restoring a pushed URL from history (no snapshot kept) asks the server, with both
    # headers; what it gets replaces the whole body.
    http = request.getfixturevalue(persona)

    response = http.get(
        reverse("tickets:queue"),
        {"priority": "normal"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert 'id="queue-filters"' in html
    assert ticket.subject in html
    assert "HX-History-Restore-Request" in response["Vary"]


def test_anonymous_htmx_refresh_is_sent_to_log_in(ticket: Ticket, anon_client: Any) -> None:
    response = anon_client.get(reverse("tickets:queue"), HTTP_HX_REQUEST="true")

    assert response.status_code == 302
    assert ticket.subject not in response.content.decode()


def test_the_live_refresh_needs_no_code_in_the_page(ticket: Ticket, consultant_client: Any) -> None:
    # No hx-trigger filter (htmx would eval it): static/js/queue.js sends the refresh event.
    html = consultant_client.get(reverse("tickets:queue")).content.decode()

    assert 'hx-trigger="queue-refresh"' in html
    assert 'data-refresh-seconds="20"' in html
    assert "/static/js/queue.js" in html


# --- What a row shows -----------------------------------------------------------------------------
def test_rows_show_tier_and_priority_badges_from_the_one_include(
    now: dt.datetime, consultant_client: Any
) -> None:
    ContractTicketFactory(priority=Priority.URGENT)
    PaidPriorityTicketFactory(priority=Priority.HIGH)
    TicketFactory(priority=Priority.LOW)

    html = consultant_client.get(reverse("tickets:queue")).content.decode()

    for badge in (
        '<span class="badge badge-tier-0">Contract</span>',
        '<span class="badge badge-tier-1">Paid priority</span>',
        '<span class="badge badge-tier-2">Standard</span>',
        '<span class="badge badge-priority-urgent">Urgent</span>',
        '<span class="badge badge-priority-high">High</span>',
        '<span class="badge badge-priority-low">Low</span>',
    ):
        assert html.count(badge) == 1, badge
    assert "text-bg-" not in html[html.index('id="queue-rows"') :]


@pytest.mark.parametrize(
    ("names", "shown"),
    [(("Casey", "Nguyen"), "Casey Nguyen"), (("", ""), "casey")],
    ids=["full-name", "login"],
)
def test_rows_name_the_assignee_as_everywhere_else(
    now: dt.datetime, consultant_client: Any, names: tuple[str, str], shown: str
) -> None:
    first, last = names
    TicketFactory(assignee=UserFactory(username="casey", first_name=first, last_name=last))

    html = consultant_client.get(reverse("tickets:queue")).content.decode()

    row = html[html.index('id="queue-rows"') :]
    assert f"<td>{shown}</td>" in row


def test_the_filter_form_is_the_forms_fields_in_one_row(
    now: dt.datetime, consultant: User, other_consultant: User, consultant_client: Any
) -> None:
    html = consultant_client.get(reverse("tickets:queue"), {"assignee": "me"}).content.decode()

    start = html.rindex("<form", 0, html.index('id="queue-filters"'))
    form = html[start : html.index("</form>", start)]
    for name in ("priority", "tier", "assignee", "q", "waiting"):
        assert form.count(f'name="{name}"') == 1, name
    assert 'hx-target="#queue-table"' in form
    assert '<option value="me" selected>Mine</option>' in form
    assert f'<option value="{other_consultant.pk}">Carol</option>' in form
    assert 'type="search" name="q"' in form


# --- Searching: a number is a ticket id only if it is one ---------------------------------------
@pytest.mark.parametrize("term", ["²", "#²", "#١٢", "99999999999999999999999", "#-1", "#0"])
def test_search_for_a_number_that_is_no_id_searches_the_text(
    ticket: Ticket, consultant_client: Any, term: str
) -> None:
    # "²" passes str.isdigit() and int() refuses it: the queue answered 500 (issue 14).
    response = consultant_client.get(reverse("tickets:queue"), {"q": term})

    assert response.status_code == 200
    assert response.context["page"].rows == []


def test_search_for_a_ticket_number_finds_the_ticket(
    ticket: Ticket, consultant_client: Any
) -> None:
    response = consultant_client.get(reverse("tickets:queue"), {"q": f"#{ticket.pk}"})

    assert [row.pk for row in response.context["page"].rows] == [ticket.pk]
