"""Fixtures for billing: a practice with three contracts billed for February 2025."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from billing.periods import Period
from contracts.models import ServiceContract
from contracts.services import contract_cancel
from tests.factories import ContactFactory, ContractFactory, PlanFactory, TicketFactory
from tickets.services import time_log

FEBRUARY = Period(2025, 2)  # 28 days; the suite's clock is 10 March 2025


@pytest.fixture
def february() -> Period:
    return FEBRUARY


def contract(
    price: str, included: str, *, starts_on: dt.date, rate: str = "100.00"
) -> ServiceContract:
    plan = PlanFactory(
        monthly_price=Decimal(price),
        included_hours=Decimal(included),
        overage_hourly_rate=Decimal(rate),
    )
    made = ContractFactory(plan=plan, starts_on=starts_on)
    ContactFactory(client=made.client, is_primary=True)
    return made


def log(client: Any, consultant: User, minutes: int, day: dt.date) -> Any:
    ticket = TicketFactory(client=client, opened_at=dt.datetime(2025, 1, 2, 15, 0, tzinfo=dt.UTC))
    return time_log(ticket=ticket, consultant=consultant, minutes=minutes, work_date=day)


@pytest.fixture
def practice(now: dt.datetime, consultant: User, time_machine: Any) -> dict[str, ServiceContract]:
    """Three contracts as February 2025 saw them.

    - full: all month, $600 with 10 h included at $100/h overage; 12 h worked -> 2 h overage.
    - joined: started 15 February, $560 with 8 h; 14 of 28 days -> $280 and 4 h included.
    - left: $500 since June 2024, cancelled on 10 February, so covered to the 9th -> 9 of 28
      days = $160.71.
    """
    full = contract("600.00", "10", starts_on=dt.date(2025, 1, 1))
    log(full.client, consultant, 480, dt.date(2025, 2, 3))
    log(full.client, consultant, 240, dt.date(2025, 2, 20))
    joined = contract("560.00", "8", starts_on=dt.date(2025, 2, 15))
    left = contract("500.00", "8", starts_on=dt.date(2024, 6, 1))
    time_machine.move_to(dt.datetime(2025, 2, 10, 17, 0, tzinfo=dt.UTC), tick=False)
    left = contract_cancel(contract=left, reason="Moved office")
    time_machine.move_to(now, tick=False)
    return {"full": full, "joined": joined, "left": left}
