"""Fixtures of the ticket tests: a ticket for the workspace views, a contract on a 24x7 plan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from contracts.models import Coverage
from tests.conftest import NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    PlanFactory,
    TicketFactory,
)
from tickets.models import Ticket


@pytest.fixture
def ticket(now: dt.datetime) -> Ticket:
    """A new transactional ticket with a contact to reply to."""
    contact = ContactFactory(client=ClientFactory(name="Bayside Dental"))
    return TicketFactory(client=contact.client, contact=contact, opened_at=NOW)


@pytest.fixture
def always_plan() -> Any:
    """A 24x7 plan: every hour counts, so deadline arithmetic is plain addition."""
    return PlanFactory(coverage=Coverage.ALWAYS, included_hours=Decimal("4.00"))


@pytest.fixture
def contract(always_plan: Any) -> Any:
    contract = ContractFactory(plan=always_plan)
    ContactFactory(client=contract.client)
    return contract
