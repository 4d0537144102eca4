"""Fixtures of the workspace view tests."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import NOW
from tests.factories import ClientFactory, ContactFactory, TicketFactory
from tickets.models import Ticket


@pytest.fixture
def ticket(now: dt.datetime) -> Ticket:
    """A new transactional ticket with a contact to reply to."""
    contact = ContactFactory(client=ClientFactory(name="Bayside Dental"))
    return TicketFactory(client=contact.client, contact=contact, opened_at=NOW)
