"""A consultant's day, in a real browser: log in, take the next ticket, reply, log time, resolve."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from clients.models import Charge
from tests.factories import ClientFactory, ContactFactory, ContractFactory
from tickets.models import Ticket, TicketEventKind, TicketStatus
from tickets.services import ticket_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_consultant_takes_next_ticket_replies_logs_time_and_resolves(
    browser_page: Any, live_server: Any, consultant: User, password: str, mailoutbox: list
) -> None:
    contract_client = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=contract_client, name="Ana Diaz", email="ana@harbor.example")
    ContractFactory(client=contract_client)
    walk_in = ClientFactory(name="Corner Bakery")
    ContactFactory(client=walk_in, email="owner@bakery.example")
    older = ticket_open(client=walk_in, subject="Till printer jams")
    urgent = ticket_open(client=contract_client, subject="Server will not boot", priority="urgent")
    page = browser_page

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", consultant.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/queue/")
    rows = page.locator("#queue-rows tr")
    # The contract ticket is first although the break-fix ticket is older.
    assert "Server will not boot" in rows.nth(0).inner_text()
    assert "Till printer jams" in rows.nth(1).inner_text()

    page.click("#take-next")
    page.wait_for_url(f"**/tickets/{urgent.pk}/")
    assert "You took" in page.content()

    page.fill("#id_reply-body", "We are on it: a technician is connecting remotely now.")
    page.click("text=Send reply")
    page.get_by_text("Reply sent to ana@harbor.example").wait_for()

    page.click("button[data-bs-target='#tab-time']")
    page.fill("#id_time-minutes", "45")
    page.fill("#id_time-note", "Replaced the failed RAID disk")
    page.click("#tab-time button[type=submit]")
    page.get_by_text("45 min logged").first.wait_for()

    page.select_option("#id_status-status", TicketStatus.RESOLVED)
    page.click("text=Change status")
    page.wait_for_selector("#ticket-status:has-text('Resolved')")

    urgent.refresh_from_db()
    assert urgent.status == TicketStatus.RESOLVED
    assert urgent.assignee == consultant
    assert urgent.first_response_at is not None
    entry = urgent.time_entries.get()
    assert (entry.minutes, entry.covered_minutes, entry.charge) == (45, 45, None)
    kinds = list(urgent.events.values_list("kind", flat=True))
    assert TicketEventKind.REPLY in kinds
    assert TicketEventKind.TIME in kinds
    assert any("technician is connecting" in m.body for m in mailoutbox)
    assert not Charge.objects.filter(client=contract_client).exists()
    assert Ticket.objects.get(pk=older.pk).assignee is None
    assert Decimal(0) == sum(
        (c.amount for c in Charge.objects.filter(client=contract_client)), Decimal(0)
    )
