"""What a ticket charges: paid priority bought later, and time logged on contract or by the hour."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User

from clients.models import Charge, ChargeKind
from tests.conftest import HOUR, NOW, TODAY
from tests.factories import ContractTicketFactory, PaidPriorityTicketFactory, TicketFactory
from tests.tickets.service_helpers import S, counts, kinds, ticket_in
from tickets.models import QueueTier, Ticket, TicketEventKind, TimeEntry
from tickets.services import TicketError, ticket_buy_priority, time_log

pytestmark = pytest.mark.django_db


# --- ticket_buy_priority ----------------------------------------------------------------------
def test_buying_priority_later_charges_and_moves_ticket_to_the_paid_tier(
    now: dt.datetime, consultant: User, rate_card: Any
) -> None:
    ticket = TicketFactory()

    ticket_buy_priority(ticket=ticket, actor=consultant)

    ticket.refresh_from_db()
    assert ticket.queue_tier == QueueTier.PAID_PRIORITY
    assert ticket.priority_charge.amount == rate_card.paid_priority_surcharge
    assert ticket.priority_charge.rate == rate_card.paid_priority_surcharge
    assert kinds(ticket) == [TicketEventKind.PAID_PRIORITY]


def test_buying_priority_twice_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = PaidPriorityTicketFactory()

    with pytest.raises(TicketError, match="already bought"):
        ticket_buy_priority(ticket=ticket, actor=consultant)

    assert Charge.objects.count() == 1


def test_contract_ticket_cannot_buy_priority(now: dt.datetime, consultant: User) -> None:
    ticket = ContractTicketFactory()

    with pytest.raises(TicketError, match="served first already"):
        ticket_buy_priority(ticket=ticket, actor=consultant)

    assert not Charge.objects.exists()


# --- time_log ---------------------------------------------------------------------------------
@pytest.fixture
def contract_ticket(contract: Any) -> Ticket:
    """A ticket of a client whose contract includes 4 hours a month at $110/h overage."""
    contract.plan.overage_hourly_rate = Decimal("110.00")
    contract.plan.save()
    return ContractTicketFactory(contract=contract, opened_at=NOW - 20 * 24 * HOUR)


def test_time_within_the_included_hours_is_covered(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    entry = time_log(ticket=contract_ticket, consultant=consultant, minutes=180, work_date=TODAY)

    assert (entry.covered_minutes, entry.billable_minutes) == (180, 0)
    assert entry.contract == contract_ticket.contract
    assert entry.charge is None
    assert not Charge.objects.exists()
    event = contract_ticket.events.get()
    assert event.kind == TicketEventKind.TIME
    assert event.body == "180 min logged, 180 covered by the contract."


def test_time_beyond_the_included_hours_is_overage_left_for_the_monthly_run(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    time_log(ticket=contract_ticket, consultant=consultant, minutes=180, work_date=TODAY)

    entry = time_log(ticket=contract_ticket, consultant=consultant, minutes=120, work_date=TODAY)

    assert (entry.covered_minutes, entry.billable_minutes) == (60, 60)
    assert entry.covered_minutes + entry.billable_minutes == entry.minutes
    assert entry.contract == contract_ticket.contract
    # The month's billing run charges the overage, at the plan's rate, in one line.
    assert entry.charge is None
    assert not Charge.objects.exists()
    assert contract_ticket.events.last().body == (
        "120 min logged, 60 covered by the contract, 60 beyond the included hours "
        "(overage, billed with the month)."
    )
    # Once the hours are spent, all further work is overage.
    third = time_log(ticket=contract_ticket, consultant=consultant, minutes=30, work_date=TODAY)
    assert (third.covered_minutes, third.billable_minutes) == (0, 30)


def test_included_hours_start_fresh_each_month(
    now: dt.datetime, contract_ticket: Ticket, consultant: User
) -> None:
    feb_28, mar_1 = dt.date(2025, 2, 28), dt.date(2025, 3, 1)
    time_log(ticket=contract_ticket, consultant=consultant, minutes=240, work_date=feb_28)

    february = time_log(ticket=contract_ticket, consultant=consultant, minutes=60, work_date=feb_28)
    march = time_log(ticket=contract_ticket, consultant=consultant, minutes=60, work_date=mar_1)

    assert (february.covered_minutes, february.billable_minutes) == (0, 60)
    assert (march.covered_minutes, march.billable_minutes) == (60, 0)


def test_transactional_time_is_all_billed_at_the_hourly_rate(
    now: dt.datetime, consultant: User, rate_card: Any
) -> None:
    rate_card.hourly_rate = Decimal("120.00")
    rate_card.save()
    ticket = TicketFactory()

    entry = time_log(ticket=ticket, consultant=consultant, minutes=90, work_date=TODAY, note="x")

    assert (entry.covered_minutes, entry.billable_minutes) == (0, 90)
    assert entry.contract is None
    assert entry.charge.kind == ChargeKind.LABOUR
    assert entry.charge.amount == Decimal("180.00")
    assert entry.charge.created_by == consultant


def test_billed_time_is_rounded_to_the_cent(
    now: dt.datetime, consultant: User, rate_card: Any
) -> None:
    rate_card.hourly_rate = Decimal("125.00")
    rate_card.save()

    entry = time_log(ticket=TicketFactory(), consultant=consultant, minutes=7, work_date=TODAY)

    assert entry.charge.amount == Decimal("14.58")  # 125 * 7 / 60 = 14.5833...


def test_sixteen_hours_is_the_longest_entry(now: dt.datetime, consultant: User) -> None:
    entry = time_log(ticket=TicketFactory(), consultant=consultant, minutes=960, work_date=TODAY)

    assert entry.minutes == 960


@pytest.mark.parametrize(
    ("minutes", "work_date", "message"),
    [
        (0, TODAY, "between 1 minute and 16 hours"),
        (-5, TODAY, "between 1 minute and 16 hours"),
        (961, TODAY, "between 1 minute and 16 hours"),
        (60, TODAY + dt.timedelta(days=1), "has not happened yet"),
        (60, TODAY - dt.timedelta(days=30), "before the ticket was opened"),
    ],
)
def test_invalid_time_is_refused_and_nothing_is_written(
    now: dt.datetime, consultant: User, minutes: int, work_date: dt.date, message: str
) -> None:
    ticket = TicketFactory(opened_at=NOW - 3 * 24 * HOUR)
    before = counts()

    with pytest.raises(TicketError, match=message):
        time_log(ticket=ticket, consultant=consultant, minutes=minutes, work_date=work_date)

    assert counts() == before


def test_time_on_a_closed_ticket_is_refused(now: dt.datetime, consultant: User) -> None:
    ticket = ticket_in(S.CLOSED)

    with pytest.raises(TicketError, match="closed"):
        time_log(ticket=ticket, consultant=consultant, minutes=30, work_date=TODAY)

    assert not TimeEntry.objects.exists()
