"""Who may use each workspace page and how each answers a wrong method, an unknown ticket or
junk: every URL, every persona (consultant, manager, staff without a role, anonymous)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.conftest import TODAY
from tests.tickets.workspace import UNKNOWN, snapshot
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


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


# The client pages answer their personas in their own tests (tests/tickets/test_client_*.py).
CLIENT_PAGES = {
    "clients",
    "client",
    "client_csv",
    *(f"client_{action}" for action in ("offer", "renew", "cancel", "reinstate", "drop")),
}


def test_every_workspace_url_is_in_the_table() -> None:
    from tickets.urls import urlpatterns

    assert {p.name for p in urlpatterns} == {p.name for p in PAGES} | CLIENT_PAGES


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
    before = snapshot()

    response = _request(client, page, ticket, roleless)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("page", PAGES, ids=str)
def test_anonymous_visitor_is_sent_to_log_in(page: Page, ticket: Ticket, anon_client: Any) -> None:
    before = snapshot()

    response = _request(anon_client, page, ticket, None)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot() == before


@pytest.mark.parametrize("page", POST_ONLY, ids=str)
def test_get_on_a_state_change_is_not_allowed(
    page: Page, ticket: Ticket, consultant_client: Any
) -> None:
    before = snapshot()

    response = consultant_client.get(page.url(ticket))

    assert response.status_code == 405
    assert snapshot() == before


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
