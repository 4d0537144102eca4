"""Replying to the client and adding internal notes: the first response, the email, refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import HOUR, NOW
from tests.factories import ContactFactory, TicketFactory
from tests.tickets.service_helpers import S, kinds, ticket_in
from tickets.models import Ticket, TicketEvent, TicketEventKind
from tickets.services import TicketError, ticket_add_note, ticket_open, ticket_reply

pytestmark = pytest.mark.django_db


# --- ticket_reply and ticket_add_note ---------------------------------------------------------
def test_first_reply_is_the_first_response(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    time_machine.move_to(NOW + HOUR, tick=False)

    event = ticket_reply(ticket=ticket, body="  Looking at it now. ", actor=consultant)

    ticket.refresh_from_db()
    assert ticket.first_response_at == NOW + HOUR
    assert ticket.queue_due_at == ticket.resolution_due_at  # the queue now sorts by resolution
    assert ticket.status == S.IN_PROGRESS
    assert (event.kind, event.body, event.actor) == (
        TicketEventKind.REPLY,
        "Looking at it now.",
        consultant,
    )


def test_a_later_reply_keeps_the_first_response_time(
    now: dt.datetime, contract: Any, consultant: User, time_machine: Any
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")
    ticket_reply(ticket=ticket, body="First", actor=consultant)
    time_machine.move_to(NOW + HOUR, tick=False)

    ticket_reply(ticket=ticket, body="Second", actor=consultant)

    assert Ticket.objects.get(pk=ticket.pk).first_response_at == NOW


def test_reply_is_emailed_to_the_contact_after_commit(
    now: dt.datetime,
    contract: Any,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, body="Please restart the router.", actor=consultant)
        assert mailoutbox == []

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [ticket.contact.email]
    assert message.subject == f"Re: [#{ticket.pk}] Slow network"
    assert "Please restart the router." in message.body


def test_reply_with_wait_on_client_pauses_the_clock(
    now: dt.datetime, contract: Any, consultant: User
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    ticket_reply(ticket=ticket, body="Which router?", actor=consultant, wait_on_client=True)

    ticket.refresh_from_db()
    assert ticket.status == S.WAITING_ON_CLIENT
    assert ticket.sla_paused_at == NOW
    assert kinds(ticket) == [TicketEventKind.OPENED, TicketEventKind.REPLY, TicketEventKind.STATUS]


def test_reply_on_a_closed_ticket_is_refused(
    now: dt.datetime,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    contact = ContactFactory()
    ticket = ticket_in(S.CLOSED, client=contact.client, contact=contact)

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(TicketError, match="closed"),
    ):
        ticket_reply(ticket=ticket, body="Hello?", actor=consultant)

    assert not TicketEvent.objects.exists()
    assert mailoutbox == []


def test_reply_without_a_contact_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = TicketFactory(contact=None)

    with pytest.raises(TicketError, match="no contact"):
        ticket_reply(ticket=ticket, body="Hello?", actor=consultant)

    assert Ticket.objects.get(pk=ticket.pk).first_response_at is None


def test_a_note_is_internal_and_is_not_a_response(
    now: dt.datetime,
    contract: Any,
    consultant: User,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ticket = ticket_open(client=contract.client, subject="Slow network")

    with django_capture_on_commit_callbacks(execute=True):
        event = ticket_add_note(ticket=ticket, body=" Router is EOL. ", actor=consultant)

    assert (event.kind, event.body) == (TicketEventKind.NOTE, "Router is EOL.")
    assert Ticket.objects.get(pk=ticket.pk).first_response_at is None
    assert mailoutbox == []
