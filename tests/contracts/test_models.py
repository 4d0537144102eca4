"""Database constraints: the rules that must hold even when a caller skips the services.

Each violation is attempted inside its own savepoint (`transaction.atomic()` within
`pytest.raises`), so the test's transaction stays usable and the test can go on to check that
nothing was written.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from clients.models import ChargeKind, ClientStatus, Contact
from contracts.models import (
    BusinessCalendar,
    ContractStatus,
    Coverage,
    Priority,
    ServiceContract,
    ServiceLevel,
)
from contracts.services import ContractError, contract_start
from contracts.sla import duration_words
from tests.factories import (
    CalendarFactory,
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    EndedContractFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
)
from tickets.models import QueueTier, TimeEntry

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 3, 10)


# --- One active contract per client -------------------------------------------------------------
def test_second_active_contract_for_a_client_is_refused_by_the_database():
    first = ContractFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(client=first.client)

    assert ServiceContract.objects.filter(client=first.client).count() == 1


def test_two_clients_may_each_hold_an_active_contract():
    ContractFactory()
    ContractFactory()

    assert ServiceContract.objects.active().count() == 2


def test_ended_and_cancelled_contracts_do_not_count_towards_the_one_active_contract():
    client = ClientFactory()
    EndedContractFactory(client=client)
    EndedContractFactory(client=client, status=ContractStatus.CANCELLED)
    EndedContractFactory(client=client)

    ContractFactory(client=client)

    assert ServiceContract.objects.filter(client=client).count() == 4
    assert ServiceContract.objects.active().filter(client=client).count() == 1


def test_reactivating_an_ended_contract_beside_an_active_one_is_refused():
    active = ContractFactory()
    ended = EndedContractFactory(client=active.client)

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceContract.objects.filter(pk=ended.pk).update(
            status=ContractStatus.ACTIVE, ended_at=None
        )

    ended.refresh_from_db()
    assert ended.status == ContractStatus.ENDED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_racing_to_start_a_contract_leave_exactly_one():
    # Real threads, each on its own connection, released together by a barrier: without the
    # row lock in contract_start (and the unique constraint behind it) both would insert.
    client = ClientFactory()
    plan = PlanFactory()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    lock = threading.Lock()

    def start() -> None:
        try:
            barrier.wait(timeout=10)
            try:
                result: object = contract_start(client=client, plan=plan)
            except ContractError as exc:
                result = exc
            with lock:
                outcomes.append(result)
        finally:
            # Each thread opened its own connection; close it or the test database cannot drop.
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 2, "a thread hung or died"
    assert sum(isinstance(o, ServiceContract) for o in outcomes) == 1
    assert sum(isinstance(o, ContractError) for o in outcomes) == 1
    assert ServiceContract.objects.filter(client=client).count() == 1


# --- Contract check constraints -----------------------------------------------------------------
@pytest.mark.parametrize("length", [dt.timedelta(0), dt.timedelta(days=-1)])
def test_contract_must_end_after_it_starts(length):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(starts_on=TODAY, ends_on=TODAY + length)

    assert not ServiceContract.objects.exists()


def test_one_day_contract_is_allowed():
    ContractFactory(starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=1))

    assert ServiceContract.objects.count() == 1


@pytest.mark.parametrize("discount", [Decimal("-0.01"), Decimal("100.01"), Decimal("150")])
def test_contract_discount_outside_zero_to_hundred_percent_is_refused(discount):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(discount_percent=discount)

    assert not ServiceContract.objects.exists()


@pytest.mark.parametrize("discount", [Decimal("0"), Decimal("100")])
def test_contract_discount_bounds_are_allowed(discount):
    ContractFactory(discount_percent=discount)

    assert ServiceContract.objects.count() == 1


def test_contract_price_cannot_be_negative():
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(monthly_price=Decimal("-1.00"))

    assert not ServiceContract.objects.exists()


def test_active_contract_cannot_carry_an_end_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(status=ContractStatus.ACTIVE, ended_at=timezone.now())

    assert not ServiceContract.objects.exists()


@pytest.mark.parametrize("status", [ContractStatus.ENDED, ContractStatus.CANCELLED])
def test_ended_or_cancelled_contract_must_say_when_it_ended(status):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContractFactory(status=status, ended_at=None)

    assert not ServiceContract.objects.exists()


# --- Plans, service levels, calendars -----------------------------------------------------------
def test_service_level_resolution_cannot_be_due_before_response():
    plan = PlanFactory(targets={Priority.URGENT: (60, 240)})  # no HIGH target yet

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevel.objects.create(
            plan=plan, priority=Priority.HIGH, response_minutes=120, resolution_minutes=119
        )

    assert not plan.service_levels.filter(priority=Priority.HIGH).exists()


def test_service_level_resolution_may_equal_response():
    plan = PlanFactory(targets={Priority.URGENT: (60, 240)})  # no HIGH target yet

    ServiceLevel.objects.create(
        plan=plan, priority=Priority.HIGH, response_minutes=120, resolution_minutes=120
    )

    assert plan.service_levels.filter(priority=Priority.HIGH).count() == 1


def test_service_level_needs_a_positive_response_time():
    plan = PlanFactory(targets={Priority.URGENT: (60, 240)})  # no HIGH target yet

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevel.objects.create(
            plan=plan, priority=Priority.HIGH, response_minutes=0, resolution_minutes=60
        )

    assert not plan.service_levels.filter(priority=Priority.HIGH).exists()


def test_plan_has_one_target_per_priority():
    plan = PlanFactory()  # the factory gives it a target for every priority

    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceLevel.objects.create(
            plan=plan, priority=Priority.URGENT, response_minutes=30, resolution_minutes=60
        )

    assert plan.service_levels.filter(priority=Priority.URGENT).count() == 1


def test_calendar_must_close_after_it_opens():
    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFactory(name="Backwards", opens_at=dt.time(18, 0), closes_at=dt.time(8, 0))

    assert not BusinessCalendar.objects.filter(name="Backwards").exists()


def test_calendar_needs_a_working_day():
    no_days = dict.fromkeys(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"], False
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        CalendarFactory(name="Never open", **no_days)

    assert not BusinessCalendar.objects.filter(name="Never open").exists()


# --- Clients, contacts, charges -----------------------------------------------------------------
def test_client_has_at_most_one_primary_contact():
    first = ContactFactory(is_primary=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        ContactFactory(client=first.client, is_primary=True)

    assert Contact.objects.filter(client=first.client).count() == 1


def test_client_may_have_many_secondary_contacts_beside_its_primary():
    first = ContactFactory(is_primary=True)
    ContactFactory(client=first.client, is_primary=False)
    ContactFactory(client=first.client, is_primary=False)
    ContactFactory(is_primary=True)  # another client's primary

    assert Contact.objects.filter(client=first.client).count() == 3
    assert Contact.objects.primary().count() == 2


@pytest.mark.parametrize("amount", [Decimal("0.00"), Decimal("-10.00")])
def test_charge_amount_must_be_positive(amount):
    client = ClientFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ChargeFactory(client=client, amount=amount, kind=ChargeKind.OTHER)

    assert not client.charges.exists()


def test_dropped_client_must_say_when_it_was_dropped():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(status=ClientStatus.DROPPED, dropped_at=None)


def test_active_client_cannot_carry_a_drop_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        ClientFactory(status=ClientStatus.ACTIVE, dropped_at=timezone.now())


# --- Tickets: the stored queue keys follow the contract -----------------------------------------
_DEADLINE_FIELDS = [
    "response_due_at",
    "resolution_due_at",
    "response_risk_at",
    "resolution_risk_at",
    "queue_due_at",
]


def _deadlines() -> dict[str, dt.datetime]:
    now = timezone.now()
    return {
        "response_due_at": now + dt.timedelta(hours=1),
        "resolution_due_at": now + dt.timedelta(hours=4),
        "response_risk_at": now + dt.timedelta(minutes=45),
        "resolution_risk_at": now + dt.timedelta(hours=3),
        "queue_due_at": now + dt.timedelta(hours=1),
    }


def test_contract_ticket_with_its_deadlines_is_accepted():
    contract = ContractFactory()

    ticket = TicketFactory(
        client=contract.client, contract=contract, queue_tier=QueueTier.CONTRACT, **_deadlines()
    )

    assert ticket.is_contract_ticket


def test_ticket_under_a_contract_must_sit_in_the_contract_tier():
    contract = ContractFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(client=contract.client, contract=contract, queue_tier=QueueTier.STANDARD)


def test_ticket_without_a_contract_cannot_claim_the_contract_tier():
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(queue_tier=QueueTier.CONTRACT, **_deadlines())


def test_paid_priority_tier_needs_the_paid_priority_flag_and_its_charge():
    client = ClientFactory()
    charge = ChargeFactory(client=client, kind=ChargeKind.PAID_PRIORITY)

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(client=client, queue_tier=QueueTier.PAID_PRIORITY, paid_priority=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(client=client, queue_tier=QueueTier.PAID_PRIORITY, paid_priority=True)

    ticket = TicketFactory(
        client=client,
        queue_tier=QueueTier.PAID_PRIORITY,
        paid_priority=True,
        priority_charge=charge,
    )
    assert ticket.queue_tier == QueueTier.PAID_PRIORITY


@pytest.mark.parametrize("missing", [None, *_DEADLINE_FIELDS])
def test_contract_ticket_must_carry_all_its_deadlines(missing):
    contract = ContractFactory()
    deadlines = {k: v for k, v in _deadlines().items() if missing and k != missing}

    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(
            client=contract.client, contract=contract, queue_tier=QueueTier.CONTRACT, **deadlines
        )


@pytest.mark.parametrize("deadline", _DEADLINE_FIELDS)
def test_ticket_without_a_guarantee_carries_no_deadline(deadline):
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketFactory(**{deadline: timezone.now() + dt.timedelta(hours=1)})


# --- Time entries: covered + billable = logged --------------------------------------------------
def test_time_entry_split_must_add_up_to_the_minutes_logged():
    ticket = TicketFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntryFactory(ticket=ticket, minutes=60, covered_minutes=0, billable_minutes=45)

    assert not TimeEntry.objects.exists()


def test_time_entry_split_between_covered_and_billable_is_accepted():
    contract = ContractFactory()
    ticket = TicketFactory(
        client=contract.client, contract=contract, queue_tier=QueueTier.CONTRACT, **_deadlines()
    )

    entry = TimeEntryFactory(
        ticket=ticket, contract=contract, minutes=90, covered_minutes=60, billable_minutes=30
    )

    assert entry.pk is not None


def test_covered_minutes_need_a_contract():
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntryFactory(minutes=30, covered_minutes=30, billable_minutes=0, contract=None)


@pytest.mark.parametrize("minutes", [0, 16 * 60 + 1])
def test_time_entry_minutes_stay_within_one_working_day(minutes):
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeEntryFactory(minutes=minutes, covered_minutes=0, billable_minutes=minutes)


# --- Targets and hours in words -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("minutes", "business_hours", "words"),
    [
        (60, False, "1 hour"),
        (1440, False, "1 day"),
        (1530, False, "1 day 1 hour 30 minutes"),
        (60, True, "1 business hour"),
        (90, True, "1 business hour 30 minutes"),
        # Covered minutes: 24 business hours is two and a half working days, not "1 day".
        (1440, True, "24 business hours"),
        (0, True, "0 minutes"),
    ],
)
def test_a_target_is_put_in_words_in_the_hours_it_counts(minutes, business_hours, words):
    assert duration_words(minutes, business_hours=business_hours) == words


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({"monday", "tuesday", "wednesday", "thursday", "friday"}, "Monday to Friday"),
        ({"monday", "wednesday", "friday"}, "Monday, Wednesday, Friday"),
        ({"saturday", "sunday"}, "Saturday, Sunday"),
        ({"tuesday"}, "Tuesday"),
    ],
)
def test_a_calendar_states_its_working_week_for_clients(days, text):
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    calendar = BusinessCalendar(
        name="Office",
        timezone="Europe/London",
        opens_at=dt.time(9, 0),
        closes_at=dt.time(17, 30),
        **{day: day in days for day in weekdays},
    )

    assert calendar.hours_text == (
        f"{text}, 09:00 to 17:30 (London time), public holidays excepted"
    )


@pytest.mark.parametrize(
    ("zone", "place"),
    [
        ("America/New_York", "New York"),
        ("America/Argentina/Buenos_Aires", "Buenos Aires"),
        ("UTC", "UTC"),
    ],
)
def test_a_calendar_names_its_time_zone_by_place_not_by_identifier(zone, place):
    calendar = BusinessCalendar(
        name="Office", timezone=zone, opens_at=dt.time(8), closes_at=dt.time(18)
    )

    assert f"08:00 to 18:00 ({place} time)" in calendar.hours_text


def test_a_24x7_plan_states_its_cover_and_targets_in_clock_time():
    plan = PlanFactory(coverage=Coverage.ALWAYS)

    assert plan.coverage_text == "around the clock, every day of the year"
    urgent = plan.service_levels.get(priority=Priority.URGENT)
    assert (urgent.response_text, urgent.resolution_text) == ("1 hour", "4 hours")
