"""A consultant's day, in a real browser: sign in through the login page, read the queue, take
the next ticket, reply to the client (who gets the reply by email, over SMTP), log time and
resolve it. Every page runs under the strict Content-Security-Policy and axe-core finds no
serious accessibility failure on it. With SAVE_SCREENSHOTS_TO=docs/screenshots the test
refreshes the login, queue and ticket pictures of the README."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Charge, ChargeKind
from contracts.models import Priority
from tests.browser.emails import addressed_to, part
from tests.browser.strict import (
    assert_accessible,
    reload_under_policy,
    screenshots_dir,
    sign_in,
)
from tests.factories import ClientFactory, ContactFactory, ContractFactory, PlanFactory
from tests.integration.servers import wait_for
from tests.smtp import Inbox
from tickets.models import Ticket, TicketEventKind, TicketStatus
from tickets.services import ticket_assign, ticket_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANA = "ana@harbor.example"


def _morning_queue(colleague: User) -> dict[str, Ticket]:
    """Four clients' tickets, opened in this order: a break-fix client's printer, a contract
    ticket a colleague already works on, a break-fix client who paid for priority, and an
    urgent contract ticket."""
    business_care = PlanFactory(name="Business Care")
    bakery = ClientFactory(name="Corner Bakery")
    ContactFactory(client=bakery, name="Sam Roe", email="owner@bakery.example")
    summit = ClientFactory(name="Summit Logistics")
    ContactFactory(client=summit, name="Lee Park", email="lee@summit.example")
    ContractFactory(client=summit, plan=business_care)
    lakeside = ClientFactory(name="Lakeside Veterinary Clinic")
    ContactFactory(client=lakeside, name="Priya Nair", email="priya@lakeside-vets.example")
    harbor = ClientFactory(name="Harbor Dental Group")
    ContactFactory(client=harbor, name="Ana Diaz", email=ANA)
    ContractFactory(client=harbor, plan=business_care)

    printer = ticket_open(client=bakery, subject="Till printer jams on every receipt")
    mail = ticket_open(client=summit, subject="Email not syncing on the MacBook")
    ticket_assign(ticket=mail, assignee=colleague, actor=colleague)
    scanner = ticket_open(
        client=lakeside, subject="Scanner will not send to email", paid_priority=True
    )
    server = ticket_open(
        client=harbor,
        subject="Server will not boot",
        description="The practice server shows a black screen; nobody can open patient files.",
        priority=Priority.URGENT,
    )
    return {"printer": printer, "mail": mail, "scanner": scanner, "server": server}


def test_a_consultant_takes_the_next_ticket_replies_logs_time_and_resolves_it(
    strict_page: Any,
    live_server: Any,
    consultant: User,
    other_consultant: User,
    password: str,
    mail_server: Inbox,
    tmp_path: Path,
) -> None:
    tickets = _morning_queue(other_consultant)
    server = tickets["server"]
    page, shots = strict_page, screenshots_dir(tmp_path)
    # The client was told at once that the ticket is logged.
    wait_for(lambda: len(addressed_to(mail_server, ANA)) == 1, timeout=10, what="the ack")
    (acknowledgement,) = addressed_to(mail_server, ANA)
    assert f"[#{server.pk}]" in acknowledgement["Subject"]

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in").wait_for()
    page.screenshot(path=shots / "login.png")
    assert_accessible(page, live_server)
    sign_in(page, live_server, consultant.username, password, lands_on="/queue/")

    # The contract tickets first (the urgent one is due sooner, although it came last), then
    # the client who paid for priority, then the printer, first come first served.
    rows = page.locator("#queue-rows tr")
    rows.nth(3).wait_for()
    assert rows.count() == 4
    expected = [
        ("Harbor Dental Group", "Server will not boot", "Contract", "Urgent", "—"),
        ("Summit Logistics", "Email not syncing on the MacBook", "Contract", "Normal", "Carol"),
        ("Lakeside Veterinary Clinic", "Scanner will not send to email", "Paid priority", "Normal", "—"),
        ("Corner Bakery", "Till printer jams on every receipt", "Standard", "Normal", "—"),
    ]  # fmt: skip
    for number, (client, subject, tier, priority, assignee) in enumerate(expected):
        cells = rows.nth(number).locator("td")
        assert cells.nth(1).inner_text() == client
        assert cells.nth(2).inner_text().startswith(subject)
        assert (cells.nth(3).inner_text(), cells.nth(4).inner_text()) == (tier, priority)
        assert cells.nth(7).inner_text() == assignee
    page.screenshot(path=shots / "queue.png")
    assert_accessible(page, live_server)

    page.click("#take-next")
    page.wait_for_url(f"**/tickets/{server.pk}/")
    assert page.get_by_role("alert").inner_text() == f"You took #{server.pk}: Server will not boot"
    assert page.locator("h1").inner_text() == "Server will not boot"
    assert "Ana Diaz <ana@harbor.example>" in page.locator("main").inner_text()
    reload_under_policy(page)

    page.fill("#id_reply-body", "We are on it: a technician is connecting remotely now.")
    page.get_by_role("button", name="Send reply").click()
    page.get_by_role("alert").filter(has_text="Reply sent to ana@harbor.example.").wait_for()
    timeline = page.locator("ul.timeline")
    assert "a technician is connecting remotely now" in timeline.inner_text()
    # The client has the reply in their mailbox, signed by the consultant.
    wait_for(lambda: len(addressed_to(mail_server, ANA)) == 2, timeout=10, what="the reply")
    reply = addressed_to(mail_server, ANA)[-1]
    assert f"[#{server.pk}]" in reply["Subject"]
    text = part(reply, "text/plain")
    assert "We are on it: a technician is connecting remotely now." in text
    assert "Bob, " in text

    page.get_by_role("tab", name="Log time").click()
    page.fill("#id_time-minutes", "45")
    page.fill("#id_time-note", "Replaced the failed RAID disk")
    page.locator("#tab-time").get_by_role("button").click()
    page.get_by_role("alert").filter(
        has_text="45 min logged, 45 covered by the contract."
    ).wait_for()
    time_card = page.locator(".card", has=page.get_by_role("heading", name="Time"))
    today = timezone.localdate()
    assert time_card.inner_text().endswith(f"{today:%-d %b} · Bob · 45 min (45 covered)")
    reload_under_policy(page)
    page.screenshot(path=shots / "ticket.png", full_page=True)
    assert_accessible(page, live_server)

    page.select_option("#id_status-status", TicketStatus.RESOLVED)
    page.get_by_role("button", name="Change status").click()
    page.get_by_role("alert").filter(has_text="Status is now resolved.").wait_for()
    assert page.locator("#ticket-status").inner_text() == "Resolved"
    assert page.locator("#tab-reply").count() == 0  # a resolved ticket takes no more replies

    # Back in the queue, the ticket is gone and the colleague's and the others' are left.
    page.get_by_role("link", name="Queue").first.click()
    page.wait_for_url("**/queue/")
    subjects = page.locator("#queue-rows tr td:nth-child(3)").all_inner_texts()
    assert [s.split(" · ")[0] for s in subjects] == [
        "Email not syncing on the MacBook",
        "Scanner will not send to email",
        "Till printer jams on every receipt",
    ]

    server.refresh_from_db()
    assert (server.status, server.assignee) == (TicketStatus.RESOLVED, consultant)
    assert server.first_response_at is not None
    assert server.resolved_at is not None
    entry = server.time_entries.get()
    assert (entry.minutes, entry.covered_minutes, entry.charge) == (45, 45, None)
    assert entry.note == "Replaced the failed RAID disk"
    kinds = list(server.events.values_list("kind", flat=True))
    for kind in (TicketEventKind.REPLY, TicketEventKind.TIME, TicketEventKind.STATUS):
        assert kind in kinds
    # Work under the contract charges nothing; the one charge is the priority Lakeside bought.
    assert list(Charge.objects.values_list("client__name", "kind")) == [
        ("Lakeside Veterinary Clinic", ChargeKind.PAID_PRIORITY)
    ]
    # Nobody else's ticket was touched.
    assert Ticket.objects.get(pk=tickets["mail"].pk).assignee == other_consultant
    for waiting in (tickets["scanner"], tickets["printer"]):
        assert Ticket.objects.get(pk=waiting.pk).assignee is None
