"""axe-core, in a real browser, finds no serious or critical accessibility failure on the pages
consultants and clients use: the queue, ticket pages, the new-ticket page and the public offer
pages. axe is vendored (static/vendor/README.md) and injected into each page; nothing loads from
a CDN."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from contracts.models import Priority
from offers.models import OfferStatus
from offers.tokens import offer_token
from tests.browser.strict import blocking_violations
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    OfferFactory,
    PaidPriorityTicketFactory,
    TicketFactory,
)
from tickets.models import TicketStatus
from tickets.services import ticket_add_note, ticket_change_status, time_log

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _queue(page: Any, live_server: Any, consultant: User) -> None:
    # A row of every tier, priority and deadline state (overdue and at risk rows are tinted, and
    # a status other than New is written on them in grey), so every colour pair is checked.
    now = timezone.now()
    working = {"status": TicketStatus.IN_PROGRESS, "assignee": consultant}
    ContractTicketFactory(opened_at=now - dt.timedelta(hours=6), priority=Priority.URGENT)
    ContractTicketFactory(opened_at=now - dt.timedelta(hours=5), **working)
    ContractTicketFactory(opened_at=now - dt.timedelta(hours=3, minutes=30), **working)
    ContractTicketFactory(opened_at=now - dt.timedelta(hours=3, minutes=20), priority=Priority.HIGH)
    ContractTicketFactory(priority=Priority.LOW)
    PaidPriorityTicketFactory(priority=Priority.LOW)
    TicketFactory(priority=Priority.NORMAL, **working)
    page.goto(live_server.url + reverse("tickets:queue"))
    page.locator("#queue-rows tr.sla-overdue").first.wait_for()
    page.locator("#queue-rows tr.sla-risk").first.wait_for()


def _contract_ticket_with_activity(page: Any, live_server: Any, consultant: User) -> None:
    # Answered late, so the page shows its red "Late" badge too.
    opened = timezone.now() - dt.timedelta(days=1)
    ticket = ContractTicketFactory(
        opened_at=opened,
        contact=ContactFactory(),
        status=TicketStatus.IN_PROGRESS,
        first_response_at=opened + dt.timedelta(hours=6),
    )
    ContactFactory(client=ticket.client, is_primary=False)
    ticket_add_note(ticket=ticket, body="Router replaced; watching it.", actor=consultant)
    time_log(ticket=ticket, consultant=consultant, minutes=45, work_date=timezone.localdate())
    ticket_change_status(
        ticket=ticket, status=TicketStatus.WAITING_ON_CLIENT, actor=consultant, note="Asked Pat"
    )
    page.goto(live_server.url + reverse("tickets:detail", args=[ticket.pk]))
    page.get_by_text("Late: answered").wait_for()


def _transactional_ticket(page: Any, live_server: Any, consultant: User) -> None:
    # With a contract offer waiting in the client's inbox, which the page mentions.
    offer = OfferFactory()
    ticket = TicketFactory(client=offer.client, contact=offer.contact)
    page.goto(live_server.url + reverse("tickets:detail", args=[ticket.pk]))
    page.locator("#open-offer").wait_for()


def _new_ticket_with_client_results(page: Any, live_server: Any, consultant: User) -> None:
    ContractFactory(client=ClientFactory(name="Harbor Vets"))
    ClientFactory(name="Harbor Bakery")
    page.goto(live_server.url + reverse("tickets:new"))
    page.fill("#client-search", "harbor")
    page.locator("#client-results [data-client-id]").nth(1).wait_for()


def _new_ticket_with_a_client_picked(page: Any, live_server: Any, consultant: User) -> None:
    client = ClientFactory(name="Harbor Bakery")
    ContactFactory(client=client, name="Pat Lee")
    page.goto(live_server.url + reverse("tickets:new"))
    page.fill("#client-search", "harbor")
    page.click("#client-results [data-client-id]")
    page.locator("#id_contact option", has_text="Pat Lee").wait_for(state="attached")


def _offer(page: Any, live_server: Any, consultant: User) -> None:
    offer = OfferFactory()
    page.goto(live_server.url + reverse("offers:offer", args=[offer_token(offer)]))
    page.locator("#accept-offer").wait_for()


def _offer_form_refused(page: Any, live_server: Any, consultant: User) -> None:
    # The acceptance form answered again with its reasons: fields marked invalid, a summary.
    offer = OfferFactory()
    page.goto(live_server.url + reverse("offers:offer", args=[offer_token(offer)]))
    page.click("#accept-offer")
    page.locator("#accept-errors").wait_for()


def _offer_terms(page: Any, live_server: Any, consultant: User) -> None:
    offer = OfferFactory()
    page.goto(live_server.url + reverse("offers:offer_terms", args=[offer_token(offer)]))
    page.locator("#terms-text").wait_for()


def _offer_closed(page: Any, live_server: Any, consultant: User) -> None:
    made = timezone.now() - dt.timedelta(days=30)
    offer = OfferFactory(status=OfferStatus.EXPIRED, created_at=made)
    response = page.goto(live_server.url + reverse("offers:offer", args=[offer_token(offer)]))
    assert response.status != 200  # the closed page, not the offer


PAGES: dict[str, Callable[[Any, Any, User], None]] = {
    "queue": _queue,
    "contract-ticket-with-activity": _contract_ticket_with_activity,
    "transactional-ticket": _transactional_ticket,
    "new-ticket-client-results": _new_ticket_with_client_results,
    "new-ticket-client-picked": _new_ticket_with_a_client_picked,
    "public-offer": _offer,
    "public-offer-form-refused": _offer_form_refused,
    "public-offer-terms": _offer_terms,
    "offer-closed": _offer_closed,
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_failure(
    name: str, consultant_page: Any, live_server: Any, consultant: User
) -> None:
    PAGES[name](consultant_page, live_server, consultant)

    violations = blocking_violations(consultant_page, live_server)
    assert not violations, "\n".join(violations)
