"""Logged time is covered only by the contract term in force on the work date; the rest is labour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import RateCard
from clients.models import ChargeKind
from contracts.models import ContractStatus, RenewalMode
from contracts.services import contract_cancel
from tests.billing.conftest import contract, log
from tests.conftest import TODAY
from tests.factories import CalendarFactory, TicketFactory
from tickets.models import TimeEntry
from tickets.services import time_log

pytestmark = pytest.mark.django_db


def test_work_before_the_contract_started_is_labour_at_the_rate_card(
    now: dt.datetime, consultant: User
) -> None:
    # The case from the issue: 240 minutes logged 35 days before the start were all covered.
    held = contract("600.00", "10", starts_on=TODAY - dt.timedelta(days=5))

    entry = log(held.client, consultant, 240, TODAY - dt.timedelta(days=40))

    assert (entry.contract, entry.covered_minutes, entry.billable_minutes) == (None, 0, 240)
    assert entry.charge.kind == ChargeKind.LABOUR
    assert entry.charge.amount == Decimal("500.00")  # 4 h at the default $125/h
    assert entry.charge.rate == Decimal("125.00")


def test_work_under_a_contract_since_cancelled_still_draws_on_its_hours(
    now: dt.datetime, consultant: User, time_machine: Any
) -> None:
    held = contract("600.00", "10", starts_on=dt.date(2025, 1, 1))
    contract_cancel(contract=held, reason="Closing down")

    entry = log(held.client, consultant, 60, dt.date(2025, 2, 20))

    assert (entry.contract, entry.covered_minutes, entry.charge) == (held, 60, None)


def test_a_part_month_includes_its_share_of_the_hours(now: dt.datetime, consultant: User) -> None:
    # Started 15 February: 14 of 28 days, so 5 h of the plan's 10 h are included.
    held = contract("600.00", "10", starts_on=dt.date(2025, 2, 15))

    entry = log(held.client, consultant, 360, dt.date(2025, 2, 20))

    assert (entry.covered_minutes, entry.billable_minutes) == (300, 60)


def test_a_rate_card_change_applies_to_new_work_only(now: dt.datetime, consultant: User) -> None:
    card = RateCard.load()
    first = time_log(ticket=TicketFactory(), consultant=consultant, minutes=60, work_date=TODAY)
    card.hourly_rate = Decimal("150.00")
    card.save()

    second = time_log(ticket=TicketFactory(), consultant=consultant, minutes=60, work_date=TODAY)

    first.charge.refresh_from_db()
    assert (first.charge.amount, first.charge.rate) == (Decimal("125.00"), Decimal("125.00"))
    assert (second.charge.amount, second.charge.rate) == (Decimal("150.00"), Decimal("150.00"))


@pytest.mark.parametrize(
    ("day", "marked", "rate"),
    [
        (dt.date(2025, 3, 7), False, "125.00"),  # a Friday, in business hours
        (dt.date(2025, 3, 7), True, "187.50"),  # a Friday evening
        (dt.date(2025, 3, 8), False, "187.50"),  # a Saturday
        (dt.date(2025, 3, 3), False, "187.50"),  # a holiday of the practice
    ],
)
def test_work_outside_the_business_calendar_is_billed_at_the_after_hours_rate(
    now: dt.datetime, consultant: User, day: dt.date, marked: bool, rate: str
) -> None:
    calendar = CalendarFactory()
    calendar.holidays.create(date=dt.date(2025, 3, 3), name="Founders' day")
    card = RateCard.load()
    card.after_hours_rate = Decimal("187.50")
    card.calendar = calendar
    card.save()
    ticket = TicketFactory(opened_at=dt.datetime(2025, 3, 1, 15, 0, tzinfo=dt.UTC))

    entry = time_log(
        ticket=ticket, consultant=consultant, minutes=60, work_date=day, after_hours=marked
    )

    assert entry.charge.rate == Decimal(rate)
    assert entry.after_hours is marked


def test_without_an_after_hours_rate_the_hourly_rate_applies_at_any_time(
    now: dt.datetime, consultant: User
) -> None:
    ticket = TicketFactory(opened_at=dt.datetime(2025, 3, 1, 15, 0, tzinfo=dt.UTC))

    entry = time_log(
        ticket=ticket,
        consultant=consultant,
        minutes=60,
        work_date=dt.date(2025, 3, 8),
        after_hours=True,
    )

    assert entry.charge.rate == Decimal("125.00")


# Each example makes its own client and contract, so the shared fixtures (a frozen clock and a
# consultant) are safe to reuse across examples.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=st.lists(st.tuples(st.integers(1, 600), st.integers(0, 58)), min_size=1, max_size=8),
)
def test_logged_time_splits_by_the_term_in_force_on_each_work_date(
    now: dt.datetime, consultant: User, entries: list[tuple[int, int]]
) -> None:
    # A contract that started 1 February with 10 h a month; entries from 10 January to 9 March.
    held = contract("600.00", "10", starts_on=dt.date(2025, 2, 1))
    for minutes, offset in entries:
        log(held.client, consultant, minutes, dt.date(2025, 1, 10) + dt.timedelta(days=offset))

    for month in (1, 2, 3):
        logged = TimeEntry.objects.filter(ticket__client=held.client, work_date__month=month)
        worked = sum(e.minutes for e in logged)
        covered = sum(e.covered_minutes for e in logged)
        billable = sum(e.billable_minutes for e in logged)
        assert covered + billable == worked
        if month == 1:  # before the start: nothing covered, all labour, each with its charge
            assert covered == 0
            assert all(e.contract is None and e.charge is not None for e in logged)
        else:
            assert covered == min(worked, 600)
            assert all(e.contract == held for e in logged)


def test_an_automatic_term_awaiting_the_nightly_renewal_is_renewed_and_covers_work(
    now: dt.datetime, consultant: User
) -> None:
    # The term ended on 28 February; the roll-over that renews it has not run since.
    held = contract("600.00", "10", starts_on=dt.date(2024, 3, 1))
    held.ends_on = dt.date(2025, 2, 28)
    held.save()

    entry = log(held.client, consultant, 60, TODAY)

    held.refresh_from_db()
    assert held.status == ContractStatus.ENDED
    renewed = held.renewed_by
    assert (renewed.starts_on, renewed.monthly_price) == (dt.date(2025, 3, 1), Decimal("600.00"))
    assert (entry.contract, entry.covered_minutes, entry.charge) == (renewed, 60, None)


def test_a_manual_term_past_its_end_does_not_cover_work(now: dt.datetime, consultant: User) -> None:
    held = contract("600.00", "10", starts_on=dt.date(2024, 3, 10))
    held.ends_on = TODAY - dt.timedelta(days=1)
    held.renewal = RenewalMode.MANUAL
    held.save()

    entry = log(held.client, consultant, 60, TODAY)

    assert (entry.contract, entry.charge.kind) == (None, ChargeKind.LABOUR)
