"""The client page, /clients/<id>/: who may open it, what it shows, and what it costs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import ClientEvent, ClientEventKind
from clients.services import client_drop
from offers.models import OfferStatus
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    OfferFactory,
    PaidPriorityTicketFactory,
)
from tests.tickets.client_helpers import grown_client, ten_hour_plan
from tickets.models import Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def _section(html: str, section: str) -> str:
    return html.split(f'id="{section}"')[1].split("</section>")[0]


def page_of(http: HttpClient, client_id: int) -> str:
    response = http.get(reverse("tickets:client", args=[client_id]))
    assert response.status_code == 200
    return response.content.decode()


# --- Who may open it -------------------------------------------------------------------------
def test_a_consultant_opens_any_client_and_sees_no_actions(consultant_client, now):
    contract = ContractFactory(client=ClientFactory(name="Harbor Dental"))

    html = page_of(consultant_client, contract.client_id)

    assert "Harbor Dental" in html
    assert 'id="client-actions"' in html
    assert 'id="action-' not in html  # renew, cancel: the manager's


def test_a_manager_sees_the_actions_the_clients_standing_allows(manager_client, manager, now):
    on_contract = ContractFactory().client
    transactional = ContactFactory().client
    dropped = client_drop(client=ClientFactory(), reason="Never converted", by=manager)

    def actions(client_id: int) -> list[str]:
        html = page_of(manager_client, client_id)
        return [
            slug
            for slug in ("offer", "renew", "cancel", "reinstate", "drop")
            if f'id="action-{slug}"' in html
        ]

    assert actions(on_contract.pk) == ["renew", "cancel"]
    assert actions(transactional.pk) == ["offer", "drop"]
    assert actions(dropped.pk) == ["reinstate"]


def test_an_anonymous_visitor_is_sent_to_sign_in(anon_client, now):
    client = ClientFactory()
    path = reverse("tickets:client", args=[client.pk])

    response = anon_client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={path}"


def test_an_unknown_client_is_not_found(consultant_client, now):
    assert consultant_client.get(reverse("tickets:client", args=[999_999])).status_code == 404


# --- The header and the contract --------------------------------------------------------------
def test_the_header_names_the_plan_the_customer_since_date_and_the_opt_out(consultant_client, now):
    client = ClientFactory(
        name="Lakeside Vets", customer_since=dt.date(2021, 6, 1), offers_opt_out=True
    )
    ContractFactory(client=client, plan=ten_hour_plan(name="Business Plus"))

    html = page_of(consultant_client, client.pk)

    header = html.split('id="client-header"')[1].split("</header>")[0]
    assert "Business Plus" in header
    assert "Customer since 1 June 2021" in header
    assert "Opted out of offers" in header


def test_the_contract_shows_its_term_renewal_price_discount_and_targets(consultant_client, now):
    plan = ten_hour_plan(name="Business Plus", monthly_price=Decimal("500.00"))
    contract = ContractFactory(
        plan=plan,
        starts_on=dt.date(2025, 1, 1),
        ends_on=dt.date(2025, 12, 31),
        monthly_price=Decimal("450.00"),
        discount_percent=Decimal("10.00"),
        discount_first_term_only=True,
    )

    html = page_of(consultant_client, contract.client_id)

    section = html.split('id="contract"')[1].split("</section>")[0]
    assert "1 Jan 2025 to 31 Dec 2025 (12 months)" in section
    assert "Renews automatically on 1 Jan 2026" in section
    assert "$450.00 a month, 10% off the plan's $500.00" in section
    assert "The discount ends with this term: $500.00 a month from 1 Jan 2026." in section
    assert "10 hours a month; beyond them $95.00 an hour" in section
    targets = section.split('id="targets"')[1]
    # Most urgent first: the factory's targets are 1 h/4 h, 2 h/8 h, 4 h/24 h and 8 h/48 h.
    assert (
        targets.index("Urgent")
        < targets.index("High")
        < targets.index("Normal")
        < targets.index("Low")
    )
    assert "1 business hour" in targets
    assert "48 business hours" in targets


# --- The pages of a small and a grown client cost the same -------------------------------------
def _queries(http: HttpClient, client_id: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        page_of(http, client_id)
    return [q["sql"] for q in captured.captured_queries]


def test_a_grown_client_costs_the_same_queries_as_a_small_one(manager_client, now):
    small = grown_client("Small Co", tickets=3, years=1, contacts=1)
    grown = grown_client("Grown Co", tickets=400, years=3)
    assert Ticket.objects.filter(client=grown).count() == 400
    assert grown.charges.count() > 36 * 4

    small_queries = _queries(manager_client, small.pk)
    grown_queries = _queries(manager_client, grown.pk)

    assert len(grown_queries) == len(small_queries)
    # Why this many: the session and the user (2); the user's and the groups' permissions (2,
    # then cached for the buttons); the client with its two open-ticket counts; its terms and
    # their plans' targets (prefetched); the contacts; the six months' minutes; the ledger's
    # year by kind; the tickets in line and their places; those waiting; the latest closed; the
    # invoices; the offers; the campaign's word (may it be offered at all? and, for a contract
    # client, the refusal's "holds a contract?"); the history. (The rate card is read for a
    # client without a contract only.)
    assert len(small_queries) == 19, "\n".join(small_queries)


# --- Tickets -------------------------------------------------------------------------------------
def test_open_tickets_show_their_place_in_the_whole_line_and_their_deadline(consultant_client, now):
    ahead = ContractTicketFactory(opened_at=NOW - 5 * HOUR)  # another client's, due first
    contract = ContractFactory(client=ClientFactory(name="Harbor Dental"))
    overdue = ContractTicketFactory(
        contract=contract, opened_at=NOW - 5 * HOUR, subject="Server down"
    )
    fresh = ContractTicketFactory(contract=contract, opened_at=NOW - HOUR, subject="New laptop")
    waiting = ContractTicketFactory(
        contract=contract, status=TicketStatus.WAITING_ON_CLIENT, sla_paused_at=NOW - HOUR
    )
    closed = ContractTicketFactory(
        contract=contract,
        status=TicketStatus.CLOSED,
        opened_at=NOW - 10 * DAY,
        first_response_at=NOW - 10 * DAY + 5 * HOUR,  # after its 4 h: missed
        resolved_at=NOW - 9 * DAY,
    )
    ahead.queue_due_at = ahead.response_due_at = NOW - 2 * HOUR
    ahead.save()

    tickets = _section(page_of(consultant_client, contract.client_id), "tickets")

    in_line = tickets.split('id="tickets-in-line"')[1].split("</table>")[0]
    assert in_line.index(overdue.subject) < in_line.index(fresh.subject)
    # The other client's ticket is first in line: ours are second and third.
    assert '>#2</td><td class="due">overdue 1h 00m</td>' in in_line
    assert '>#3</td><td class="due">3h 00m left</td>' in in_line
    assert ahead.subject not in tickets
    waiting_table = tickets.split('id="tickets-waiting"')[1].split("</table>")[0]
    assert waiting.subject in waiting_table
    assert "paused (waiting on client)" in waiting_table
    recent = tickets.split('id="tickets-recent"')[1].split("</table>")[0]
    assert closed.subject in recent
    assert "missed" in recent
    assert (
        f'href="/queue/?client={contract.client_id}" id="all-in-queue">In the queue (2)' in tickets
    )
    assert f'href="/tickets/new/?client={contract.client_id}"' in tickets


def test_a_long_line_shows_its_first_ten_and_sends_to_the_queue_for_the_rest(
    consultant_client, now
):
    contract = ContractFactory()
    for n in range(12):
        ContractTicketFactory(contract=contract, opened_at=NOW - (n + 1) * HOUR)

    tickets = _section(page_of(consultant_client, contract.client_id), "tickets")
    queue = consultant_client.get(f"/queue/?client={contract.client_id}").content.decode()

    in_line = tickets.split('id="tickets-in-line"')[1].split("<tbody>")[1].split("</tbody>")[0]
    assert in_line.count("<tr") == 10
    assert "The first 10 of 12" in tickets
    assert queue.split('id="queue-rows"')[1].split("</tbody>")[0].count("<tr") == 12
    assert f'Only the tickets of <a href="/clients/{contract.client_id}/">' in queue


# --- A transactional client, a dropped one ------------------------------------------------------
def test_a_transactional_client_shows_what_it_pays_per_job_and_its_priority_purchases(
    consultant_client, rate_card, now
):
    client = ContactFactory(client=ClientFactory(name="Corner Bakery")).client
    PaidPriorityTicketFactory.create_batch(2, client=client)

    html = page_of(consultant_client, client.pk)

    assert "badge-client-transactional" in html.split('id="client-header"')[1].split("</header>")[0]
    contract = _section(html, "contract")
    assert f"billed as labour at ${rate_card.hourly_rate:,.2f} an hour" in contract
    assert f"for ${rate_card.paid_priority_surcharge:,.2f}" in contract
    money = _section(html, "money")
    assert (
        '<th scope="row" class="fw-normal">Paid priority</th><td class="text-end">2</td><td class="text-end">$150.00</td>'
        in money
    )


def test_a_dropped_client_says_when_and_why_and_only_a_manager_may_log_a_ticket(
    manager_client, consultant_client, manager, now
):
    client = client_drop(client=ContactFactory().client, reason="Never converted", by=manager)

    for_consultant = page_of(consultant_client, client.pk)
    for_manager = page_of(manager_client, client.pk)

    assert "Dropped on 10 March 2025: Never converted." in for_consultant
    assert "badge-client-dropped" in for_consultant
    assert "it has been dropped; reinstate it first." in _section(for_consultant, "offers")
    assert f"/tickets/new/?client={client.pk}" not in for_consultant
    assert f"/tickets/new/?client={client.pk}" in for_manager


# --- Offers and history ------------------------------------------------------------------------
def test_the_open_offer_shows_its_terms_and_how_far_its_link_got(consultant_client, now):
    client = ContactFactory(client=ClientFactory(name="Lakeside Vets")).client
    OfferFactory(
        client=client,
        status=OfferStatus.DECLINED,
        created_at=NOW - 200 * DAY,
        responded_at=NOW - 190 * DAY,
    )
    OfferFactory(
        client=client,
        created_at=NOW - 7 * DAY,
        opened_at=NOW - 5 * DAY,
        reminded_at=NOW - 2 * DAY,
        discount_first_term_only=True,
    )

    offers = _section(page_of(consultant_client, client.pk), "offers")

    open_offer = offers.split('id="open-offer"')[1].split('id="campaign-outlook"')[0]
    # The factory's offer: $290.00 at 11% off, $258.10 a month; a year of $2,550.00 against
    # $3,097.20 on contract costs $547.20 more.
    assert "$258.10 a month" in open_offer
    assert "11% off $290.00 for the first term" in open_offer
    assert "costs $547.20 more" in open_offer
    assert "Sent 3 Mar" in open_offer
    assert "opened 5 Mar" in open_offer
    assert "reminded 8 Mar" in open_offer
    assert "expires 24 Mar 2025" in open_offer
    assert "it has an open offer already, until 24 March 2025." in offers
    assert "Declined</span> 1 Sep 2024" in offers.split('id="past-offers"')[1]


def test_history_shows_the_newest_events_and_links_to_all_of_them(consultant_client, manager, now):
    client = ContactFactory().client
    other = ContactFactory().client
    client_drop(client=other, reason="Elsewhere", by=manager)
    for n in range(12):
        ClientEvent.objects.create(
            client=client,
            kind=ClientEventKind.OPTED_OUT,
            summary=f"Event {n}",
            at=NOW - (12 - n) * HOUR,
        )

    history = _section(page_of(consultant_client, client.pk), "history")
    link = history.split('href="')[-1].split('"')[0].replace("&amp;", "&")
    everything = consultant_client.get(link)

    shown = [f"Event {n}" for n in range(12) if f"Event {n}<" in history]
    assert shown == [f"Event {n}" for n in range(2, 12)]  # the ten newest
    assert history.index("Event 11") < history.index("Event 2")
    assert everything.status_code == 200
    assert b"Event 0" in everything.content
    assert b"Elsewhere" not in everything.content
