"""Deadline-at-risk alerts (the scan task) and how the queue shows at-risk and overdue tickets."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import TestCase
from django.urls import reverse

from clients.models import EmailKind, EmailStatus, OutboundEmail
from clients.tasks import outbox_sweep_task
from contracts.models import Coverage
from tests.conftest import DAY, HOUR, NOW
from tests.factories import (
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    PaidPriorityTicketFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import Ticket, TicketEventKind, TicketStatus
from tickets.services import ticket_change_status, ticket_open, ticket_reply
from tickets.tasks import sla_risk_scan_task

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def ticket(now: dt.datetime) -> Ticket:
    """A normal contract ticket on a 24x7 plan: response at risk after 3h, due after 4h."""
    contract = ContractFactory(plan=PlanFactory(coverage=Coverage.ALWAYS))
    ContactFactory(client=contract.client)
    ticket = ticket_open(client=contract.client, subject="Firewall rejects VPN")
    assert ticket.response_risk_at == NOW + 3 * HOUR
    return ticket


def _scan_at(moment: dt.datetime, time_machine: Any) -> int:
    """Run the scan at `moment`; the alerts it writes are delivered when it commits."""
    time_machine.move_to(moment, tick=False)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return int(sla_risk_scan_task.delay().get())


def test_a_ticket_past_its_risk_moment_alerts_its_assignee_once(
    ticket: Ticket,
    consultant: User,
    manager: User,
    mailoutbox: list[Any],
    time_machine: Any,
) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(assignee=consultant)

    assert _scan_at(NOW + 3 * HOUR + MINUTE, time_machine) == 1

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [consultant.email]  # the assignee, not the managers
    assert message.subject == (
        f"Deadline at risk: [#{ticket.pk}] {ticket.client.name}: Firewall rejects VPN"
    )
    assert f"/tickets/{ticket.pk}/" in message.body
    assert "is close to its deadline" in message.body
    ticket.refresh_from_db()
    assert ticket.sla_risk_notified_at == NOW + 3 * HOUR + MINUTE
    event = ticket.events.get(kind=TicketEventKind.SLA_RISK)
    assert consultant.email in event.body

    # The next scans find nothing new: one alert per ticket.
    assert _scan_at(NOW + 3 * HOUR + 6 * MINUTE, time_machine) == 0
    assert _scan_at(NOW + 5 * HOUR, time_machine) == 0
    assert len(mailoutbox) == 1
    assert ticket.events.filter(kind=TicketEventKind.SLA_RISK).count() == 1


def test_a_ticket_first_seen_after_its_deadline_is_reported_as_missed_not_close(
    ticket: Ticket, consultant: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    # The scan was not running at the risk moment (a worker down overnight, say).
    Ticket.objects.filter(pk=ticket.pk).update(assignee=consultant)

    assert _scan_at(NOW + 15 * HOUR, time_machine) == 1

    (message,) = mailoutbox
    assert message.subject.startswith(f"Deadline missed: [#{ticket.pk}]")
    assert "is past its deadline" in message.body
    assert "close to its deadline" not in message.body
    html = message.alternatives[0][0]
    assert "is past its deadline" in html
    assert ticket.events.get(kind=TicketEventKind.SLA_RISK).body.startswith("Deadline missed")


def test_an_unassigned_ticket_at_risk_alerts_the_managers(
    ticket: Ticket,
    manager: User,
    consultant: User,
    roleless: User,
    mailoutbox: list[Any],
    time_machine: Any,
) -> None:
    User.objects.create_superuser("root", "root@practice.example", "x")
    retired = User.objects.create_user("erin", "erin@practice.example", is_active=False)
    retired.groups.add(*manager.groups.all())

    assert _scan_at(NOW + 3 * HOUR + MINUTE, time_machine) == 1

    # Whoever may change contracts (the Managers group, and superusers); not consultants, not
    # staff without a role, not people who left. Each gets an email of their own.
    assert [m.to for m in mailoutbox] == [["alice@practice.example"], ["root@practice.example"]]


def test_an_assignee_without_an_email_address_is_covered_by_the_managers(
    ticket: Ticket, consultant: User, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    User.objects.filter(pk=consultant.pk).update(email="")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=consultant)

    assert _scan_at(NOW + 3 * HOUR + MINUTE, time_machine) == 1

    assert [m.to for m in mailoutbox] == [[manager.email]]


def test_nothing_is_sent_before_the_risk_moment(
    ticket: Ticket, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    assert _scan_at(NOW + 3 * HOUR - MINUTE, time_machine) == 0

    assert mailoutbox == []
    assert Ticket.objects.get(pk=ticket.pk).sla_risk_notified_at is None


def test_a_paused_ticket_never_alerts(
    ticket: Ticket, consultant: User, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    ticket_change_status(ticket=ticket, status=TicketStatus.WAITING_ON_CLIENT, actor=consultant)

    assert _scan_at(NOW + 10 * DAY, time_machine) == 0

    assert mailoutbox == []


def test_transactional_tickets_never_alert(
    now: dt.datetime, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    TicketFactory(opened_at=NOW - 30 * DAY)
    PaidPriorityTicketFactory(opened_at=NOW - 30 * DAY)

    assert _scan_at(NOW + DAY, time_machine) == 0

    assert mailoutbox == []


def test_a_resolved_ticket_never_alerts(
    ticket: Ticket, consultant: User, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    ticket_change_status(ticket=ticket, status=TicketStatus.RESOLVED, actor=consultant)

    assert _scan_at(NOW + 10 * DAY, time_machine) == 0

    assert mailoutbox == []


def test_after_the_first_response_the_resolution_deadline_is_watched(
    ticket: Ticket, consultant: User, manager: User, mailoutbox: list[Any], time_machine: Any
) -> None:
    time_machine.move_to(NOW + HOUR, tick=False)
    ticket_reply(ticket=ticket, body="Looking into it", actor=consultant)
    mailoutbox.clear()

    # Past the response risk moment, but the response was sent: resolution is at risk at 18h.
    assert _scan_at(NOW + 5 * HOUR, time_machine) == 0
    assert _scan_at(NOW + 18 * HOUR + MINUTE, time_machine) == 1

    assert "(resolution)" in mailoutbox[0].body


def test_an_alert_the_mail_server_cannot_take_yet_is_sent_once_when_it_can(
    ticket: Ticket,
    manager: User,
    mailoutbox: list[Any],
    time_machine: Any,
    settings: Any,
) -> None:
    # The mail server is down during the scan: the alert is claimed and written to the outbox
    # all the same, so the next scans do not write it again, and the outbox sends it once the
    # server is back (its first retry is due a minute later).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # nothing listens there
    assert _scan_at(NOW + 3 * HOUR + MINUTE, time_machine) == 1
    assert Ticket.objects.get(pk=ticket.pk).sla_risk_notified_at == NOW + 3 * HOUR + MINUTE
    (alert,) = OutboundEmail.objects.filter(kind=EmailKind.TICKET_AT_RISK)
    assert (alert.status, alert.attempts, alert.to) == (EmailStatus.PENDING, 1, manager.email)
    assert _scan_at(NOW + 3 * HOUR + 2 * MINUTE, time_machine) == 0

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    outbox_sweep_task()  # the alert, and the ticket's acknowledgement, still pending too
    assert _scan_at(NOW + 3 * HOUR + 8 * MINUTE, time_machine) == 0
    assert outbox_sweep_task() == 0
    alerts = [m.to for m in mailoutbox if m.subject.startswith("Deadline at risk")]
    assert alerts == [[manager.email]]
    assert ticket.events.filter(kind=TicketEventKind.SLA_RISK).count() == 1


def _row_classes(html: str) -> dict[int, str]:
    rows = re.findall(r'<tr class="([^"]*)"><td><a href="/tickets/(\d+)/">', html)
    return {int(pk): css for css, pk in rows}


def test_the_queue_marks_at_risk_and_overdue_rows(now: dt.datetime, consultant_client: Any) -> None:
    def due_in(delta: dt.timedelta) -> Ticket:
        # Response due after `delta`, at risk an hour before that.
        return ContractTicketFactory(
            opened_at=NOW - 3 * HOUR,
            response_due_at=NOW + delta,
            response_risk_at=NOW + delta - HOUR,
            resolution_due_at=NOW + DAY,
            resolution_risk_at=NOW + DAY - HOUR,
        )

    overdue = due_in(-MINUTE)
    at_risk = due_in(30 * MINUTE)
    on_time = due_in(2 * HOUR)
    standard = TicketFactory()

    response = consultant_client.get(reverse("tickets:queue"))

    html = response.content.decode()
    assert _row_classes(html) == {
        overdue.pk: "sla-overdue",
        at_risk.pk: "sla-risk",
        on_time.pk: "sla-ok",
        standard.pk: "text-body-secondary",
    }
    assert "overdue 1m" in html
    assert "30m left" in html
