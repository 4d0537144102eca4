"""The workspace works under a Content-Security-Policy that allows no inline script, no eval and
no inline style: the queue's live refresh (only while the tab is visible), its filters and the
back button, and the new-ticket page's client picker. The policy is added to each page by the
browser test itself; any violation the browser reports fails the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import reverse

from tests.browser.strict import CSP
from tests.factories import ClientFactory, ContactFactory, ContractFactory, TicketFactory
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(consultant_page: Any) -> Iterator[Any]:
    """The consultant's browser, every page served under CSP; yields, then checks the console."""
    refused: list[str] = []

    def with_policy(route: Any) -> None:
        response = route.fetch()
        route.fulfill(
            response=response, headers={**response.headers, "content-security-policy": CSP}
        )

    consultant_page.route(
        lambda url: True,
        lambda route: (
            with_policy(route) if route.request.resource_type == "document" else route.continue_()
        ),
    )
    # With allowEval off, htmx does not run code it is given (an hx-trigger filter, say), so the
    # browser has no eval to refuse: htmx logs a syntax error, or fires this event.
    consultant_page.add_init_script(
        "document.addEventListener('htmx:evalDisallowedError', event =>"
        " console.error('htmx:evalDisallowedError on ' + event.target.outerHTML.slice(0, 200)))"
    )
    # The browser reports each refused script, eval or style as a console error.
    consultant_page.on(
        "console",
        lambda message: refused.append(message.text) if message.type == "error" else None,
    )
    consultant_page.on("pageerror", lambda error: refused.append(str(error)))
    yield consultant_page
    assert refused == []


def _queue_requests(page: Any) -> list[str]:
    seen: list[str] = []
    page.on(
        "request",
        lambda request: seen.append(request.url) if "/queue/" in request.url else None,
    )
    return seen


def _set_visibility(page: Any, state: str) -> None:
    # What the browser does when the consultant switches tabs (headless tabs are always visible).
    page.evaluate(
        """state => {
            Object.defineProperty(document, "visibilityState", {value: state, configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        state,
    )


def test_the_queue_refreshes_itself_while_visible_and_not_while_hidden(
    page: Any, live_server: Any
) -> None:
    page.clock.install()
    TicketFactory(subject="Printer jammed")
    page.goto(live_server.url + reverse("tickets:queue"))
    requests = _queue_requests(page)

    TicketFactory(subject="Phones dead")
    page.clock.fast_forward("00:21")
    page.locator("#queue-rows", has_text="Phones dead").wait_for()
    assert len(requests) == 1

    _set_visibility(page, "hidden")
    TicketFactory(subject="Fax haunted")
    page.clock.fast_forward("01:00")
    page.wait_for_timeout(300)
    assert len(requests) == 1  # a hidden tab does not poll
    assert "Fax haunted" not in page.locator("#queue-rows").inner_text()

    _set_visibility(page, "visible")  # it missed a refresh: it catches up at once
    page.locator("#queue-rows", has_text="Fax haunted").wait_for()
    assert len(requests) == 2


def test_queue_filters_swap_the_table_and_the_back_button_restores_the_whole_page(
    page: Any, live_server: Any
) -> None:
    ContractFactory(client=ClientFactory(name="Harbor Vets"))
    TicketFactory(subject="Printer jammed", priority="low")
    TicketFactory(subject="Server down", priority="urgent")
    page.goto(live_server.url + reverse("tickets:queue"))

    page.select_option("#id_priority", "urgent")
    page.wait_for_url("**/queue/?priority=urgent&**")
    page.locator("#queue-rows", has_not_text="Printer jammed").wait_for()
    assert page.locator("#queue-rows tr").count() == 1

    page.go_back()
    page.wait_for_url("**/queue/")
    # htmx keeps no snapshot (historyCacheSize 0): it asks the server for the page, which must
    # answer with the whole page, not the table alone.
    page.locator("#queue-rows", has_text="Printer jammed").wait_for()
    assert page.locator("#queue-filters").count() == 1
    assert page.locator("nav.navbar").count() == 1
    assert page.locator("#queue-table").count() == 1


def test_the_client_picker_fills_the_form_and_the_ticket_opens(page: Any, live_server: Any) -> None:
    client = ClientFactory(name="Harbor Bakery")
    ContactFactory(client=client, name="Pat Lee", email="pat@bakery.example")
    other = ContactFactory(
        client=client, name="Sam Roe", email="sam@bakery.example", is_primary=False
    )
    ContractFactory(client=ClientFactory(name="Harbor Vets"))
    page.goto(live_server.url + reverse("tickets:new"))

    page.fill("#client-search", "harbor")
    page.locator("#client-results [data-client-id]").nth(1).wait_for()
    page.click("#client-results [data-client-name='Harbor Bakery']")

    assert page.locator("#client-picked-name").inner_text() == "Harbor Bakery"
    assert page.locator("#client-picked-tier .badge").inner_text() == "Transactional"
    assert page.locator("#paid-priority-box").is_visible()  # a transactional client may pay
    page.locator("#id_contact option", has_text="Sam Roe").wait_for(state="attached")
    page.select_option("#id_contact", label="Sam Roe <sam@bakery.example>")
    page.fill("#id_subject", "Card reader offline")
    page.click("button[type=submit]:has-text('Open ticket')")

    page.wait_for_url("**/tickets/*/")
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.contact, ticket.subject) == (client, other, "Card reader offline")


def test_picking_a_contract_client_hides_the_priority_surcharge(
    page: Any, live_server: Any
) -> None:
    ContractFactory(client=ClientFactory(name="Harbor Vets"))
    page.goto(live_server.url + reverse("tickets:new"))

    page.fill("#client-search", "harbor")
    page.click("#client-results [data-client-id]")

    assert page.locator("#client-picked-tier .badge").inner_text() == "Contract"
    assert page.locator("#paid-priority-box").is_hidden()
    page.click("#client-change")
    assert page.locator("#client-search").is_visible()
