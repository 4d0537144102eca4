"""contract_start, contract_renew and contract_cancel: the only ways a contract changes state."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.dispatch import Signal

from clients.services import client_drop
from contracts.models import ContractStatus, RenewalMode, ServiceContract
from contracts.services import (
    ContractError,
    contract_cancel,
    contract_renew,
    contract_start,
    term_end,
)
from contracts.signals import contract_ended, contract_started
from offers.services import offer_accept
from tests.conftest import NOW, SIGNER, TODAY
from tests.factories import (
    ClientFactory,
    ContractFactory,
    EndedContractFactory,
    OfferFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db


class Recorder:
    """Connects to a signal for one test and keeps what every call received."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender: object, **kwargs: Any) -> None:
        # How deep in atomic blocks the receiver runs: deeper than the test itself means
        # inside the service's transaction (the test already runs in one of its own).
        depth = len(connection.atomic_blocks)
        self.calls.append({"sender": sender, "atomic_depth": depth, **kwargs})


def _record(signal: Signal) -> Iterator[Recorder]:
    recorder = Recorder()
    signal.connect(recorder, weak=False)
    try:
        yield recorder
    finally:
        signal.disconnect(recorder)


@pytest.fixture
def started() -> Iterator[Recorder]:
    yield from _record(contract_started)


@pytest.fixture
def ended() -> Iterator[Recorder]:
    yield from _record(contract_ended)


# --- Pure helpers -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("starts_on", "months", "expected"),
    [
        (dt.date(2025, 3, 10), 12, dt.date(2026, 3, 9)),
        (dt.date(2025, 1, 1), 1, dt.date(2025, 1, 31)),
        (dt.date(2025, 1, 1), 12, dt.date(2025, 12, 31)),
        (dt.date(2024, 3, 1), 12, dt.date(2025, 2, 28)),
    ],
)
def test_term_ends_the_day_before_the_same_date_months_later(starts_on, months, expected):
    assert term_end(starts_on, months) == expected


# --- contract_start ---------------------------------------------------------------------------
def test_starting_a_contract_charges_the_plan_price_less_the_discount(now):
    client = ClientFactory()
    plan = PlanFactory(monthly_price=Decimal("500.00"), term_months=12)

    contract = contract_start(client=client, plan=plan, discount_percent=Decimal("10"))

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE
    assert contract.monthly_price == Decimal("450.00")
    assert contract.discount_percent == Decimal("10.00")
    assert contract.starts_on == TODAY
    assert contract.ends_on == dt.date(2026, 3, 9)
    assert contract.ended_at is None
    assert contract.renewal == RenewalMode.AUTOMATIC


def test_contract_term_follows_the_plan_from_the_chosen_start_day(now):
    plan = PlanFactory(term_months=6)

    contract = contract_start(client=ClientFactory(), plan=plan, starts_on=dt.date(2025, 4, 1))

    assert contract.starts_on == dt.date(2025, 4, 1)
    assert contract.ends_on == dt.date(2025, 9, 30)


def test_an_agreed_monthly_price_overrides_the_discounted_plan_price(now):
    plan = PlanFactory(monthly_price=Decimal("500.00"))

    contract = contract_start(
        client=ClientFactory(),
        plan=plan,
        discount_percent=Decimal("10"),
        monthly_price=Decimal("399.00"),
        renewal=RenewalMode.MANUAL,
    )

    assert contract.monthly_price == Decimal("399.00")
    assert contract.renewal == RenewalMode.MANUAL


def test_a_dropped_client_cannot_start_a_contract(now, started):
    client = client_drop(client=ClientFactory(), reason="Never paid")

    with pytest.raises(ContractError, match="dropped"):
        contract_start(client=client, plan=PlanFactory())

    assert not ServiceContract.objects.filter(client=client).exists()
    assert started.calls == []


def test_a_client_with_an_active_contract_cannot_start_another(now, started):
    existing = ContractFactory()

    with pytest.raises(ContractError, match="already has an active contract"):
        contract_start(client=existing.client, plan=PlanFactory())

    assert ServiceContract.objects.filter(client=existing.client).count() == 1
    assert started.calls == []


def test_a_client_whose_last_contract_ended_can_start_a_new_one(now):
    old = EndedContractFactory()

    contract = contract_start(client=old.client, plan=old.plan)

    assert contract.is_active
    assert ServiceContract.objects.filter(client=old.client).count() == 2


@pytest.mark.parametrize("discount", [Decimal("-1"), Decimal("100.01")])
def test_a_discount_outside_zero_to_hundred_percent_is_refused(now, discount):
    with pytest.raises(ContractError, match="between 0% and 100%"):
        contract_start(client=ClientFactory(), plan=PlanFactory(), discount_percent=discount)

    assert not ServiceContract.objects.exists()


def test_starting_a_contract_tells_the_apps_above_inside_the_same_transaction(now, started):
    client = ClientFactory()

    contract = contract_start(client=client, plan=PlanFactory())

    assert len(started.calls) == 1
    call = started.calls[0]
    assert call["sender"] is ServiceContract
    assert call["contract"] == contract
    assert call["client"] == client
    assert call["atomic_depth"] > len(connection.atomic_blocks)


def test_a_failing_receiver_rolls_the_new_contract_back(now):
    # The receivers' writes commit or roll back with the contract (contracts/signals.py): so a
    # receiver that fails must take the contract down with it, not leave it half-started.
    def explode(sender: object, **kwargs: Any) -> None:
        raise RuntimeError("tickets app failed")

    client = ClientFactory()
    contract_started.connect(explode, weak=False)
    try:
        with pytest.raises(RuntimeError):
            contract_start(client=client, plan=PlanFactory())
    finally:
        contract_started.disconnect(explode)

    assert not ServiceContract.objects.filter(client=client).exists()


def test_a_refused_start_leaves_the_callers_transaction_usable(now):
    existing = ContractFactory()

    with transaction.atomic():
        with pytest.raises(ContractError):
            contract_start(client=existing.client, plan=PlanFactory())
        # Still inside the caller's transaction: it must not be marked for rollback.
        other = contract_start(client=ClientFactory(), plan=existing.plan)

    assert ServiceContract.objects.filter(pk=other.pk).exists()


# --- contract_renew ---------------------------------------------------------------------------
def test_renewing_ends_this_term_and_starts_the_next_the_day_after(now, started, ended):
    plan = PlanFactory(term_months=12)
    current = ContractFactory(
        plan=plan,
        starts_on=dt.date(2024, 4, 1),
        ends_on=dt.date(2025, 3, 31),
        monthly_price=Decimal("425.00"),
        discount_percent=Decimal("15.00"),
        renewal=RenewalMode.MANUAL,
    )

    renewed = contract_renew(contract=current)

    current.refresh_from_db()
    assert current.status == ContractStatus.ENDED
    assert current.ended_at == NOW
    assert current.end_reason
    renewed.refresh_from_db()
    assert renewed.status == ContractStatus.ACTIVE
    assert renewed.starts_on == dt.date(2025, 4, 1)
    assert renewed.ends_on == dt.date(2026, 3, 31)
    assert renewed.renewed_from == current
    assert renewed.client_id == current.client_id
    assert renewed.plan == plan
    assert renewed.monthly_price == Decimal("425.00")
    assert renewed.discount_percent == Decimal("15.00")
    assert renewed.renewal == RenewalMode.MANUAL
    # Covered without a gap: the tickets keep their guarantees, so nobody is told.
    assert started.calls == []
    assert ended.calls == []


def test_moving_to_another_plan_at_renewal_renews_on_it_at_its_price(now, started, ended):
    smaller = PlanFactory(monthly_price=Decimal("290.00"), term_months=12)
    current = ContractFactory(
        starts_on=dt.date(2024, 4, 1),
        ends_on=dt.date(2025, 3, 31),
        monthly_price=Decimal("531.00"),
        discount_percent=Decimal("10.00"),
    )

    renewed = contract_renew(contract=current, plan=smaller)

    renewed.refresh_from_db()
    assert renewed.renewed_from == current
    assert renewed.plan == smaller
    assert (renewed.starts_on, renewed.ends_on) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    # The smaller plan's list price: the 10% agreed for the old plan ends with it.
    assert (renewed.monthly_price, renewed.discount_percent) == (Decimal("290.00"), Decimal("0"))
    assert started.calls == []
    assert ended.calls == []


def test_renewing_onto_a_plan_without_targets_is_refused(now):
    current = ContractFactory()
    bare = PlanFactory()
    bare.service_levels.all().delete()

    with pytest.raises(ContractError, match="no response targets"):
        contract_renew(contract=current, plan=bare)

    current.refresh_from_db()
    assert current.status == ContractStatus.ACTIVE


def test_renewed_term_length_follows_the_plan_as_it_is_now(now):
    current = ContractFactory(starts_on=dt.date(2024, 4, 1), ends_on=dt.date(2025, 3, 31))
    current.plan.term_months = 3
    current.plan.save()

    renewed = contract_renew(contract=current)

    assert renewed.ends_on == dt.date(2025, 6, 30)


@pytest.mark.parametrize("status", [ContractStatus.ENDED, ContractStatus.CANCELLED])
def test_only_an_active_contract_can_be_renewed(now, status):
    old = EndedContractFactory(status=status)

    with pytest.raises(ContractError, match="Only an active contract"):
        contract_renew(contract=old)

    assert ServiceContract.objects.filter(client=old.client).count() == 1


def test_renewing_a_stale_copy_of_a_renewed_contract_is_refused(now):
    # Two managers renew the same contract from their own (stale) changelists.
    current = ContractFactory()
    stale = ServiceContract.objects.get(pk=current.pk)
    contract_renew(contract=current)

    with pytest.raises(ContractError):
        contract_renew(contract=stale)

    assert ServiceContract.objects.filter(client=current.client).count() == 2
    assert ServiceContract.objects.active().filter(client=current.client).count() == 1


# --- contract_cancel --------------------------------------------------------------------------
def test_cancelling_ends_the_contract_now_with_the_reason(now, ended):
    contract = ContractFactory()

    cancelled = contract_cancel(contract=contract, reason="  Moved to another provider  ")

    contract.refresh_from_db()
    assert contract.status == ContractStatus.CANCELLED
    assert contract.ended_at == NOW
    assert contract.end_reason == "Moved to another provider"
    assert cancelled.pk == contract.pk
    assert not ServiceContract.objects.active().filter(client=contract.client).exists()
    assert len(ended.calls) == 1
    assert ended.calls[0]["contract"] == contract
    assert ended.calls[0]["client"] == contract.client
    assert ended.calls[0]["atomic_depth"] > len(connection.atomic_blocks)


def test_cancelling_without_a_reason_records_a_default_one(now):
    contract = contract_cancel(contract=ContractFactory())

    assert contract.end_reason == "Cancelled"


def test_cancelling_twice_is_refused_and_sends_nothing_more(now, ended):
    contract = ContractFactory()
    contract_cancel(contract=contract, reason="Closed the business")

    with pytest.raises(ContractError, match="already cancelled"):
        contract_cancel(contract=contract, reason="Again")

    contract.refresh_from_db()
    assert contract.end_reason == "Closed the business"
    assert len(ended.calls) == 1


def test_a_cancelled_client_can_start_again(now):
    contract = contract_cancel(contract=ContractFactory(), reason="Budget cut")

    again = contract_start(client=contract.client, plan=contract.plan, discount_percent=Decimal(5))

    assert again.is_active
    assert again.monthly_price == Decimal("475.00")


def test_contract_covers_the_days_of_its_term_up_to_the_day_before_it_was_cancelled(now):
    contract = ContractFactory(starts_on=dt.date(2025, 1, 1), ends_on=dt.date(2025, 12, 31))

    assert contract.covers(dt.date(2025, 1, 1))
    assert contract.covers(dt.date(2025, 12, 31))
    assert not contract.covers(dt.date(2024, 12, 31))
    assert not contract.covers(dt.date(2026, 1, 1))
    cancelled = contract_cancel(contract=contract)
    assert cancelled.last_day == TODAY - dt.timedelta(days=1)
    assert cancelled.covers(TODAY - dt.timedelta(days=1))
    assert not cancelled.covers(TODAY)


@pytest.mark.parametrize(
    ("starts_on", "cancel"),
    [
        (dt.date(2025, 1, 1), False),
        (dt.date(2025, 1, 1), True),
        (TODAY, True),  # cancelled the day it began: it covers nothing
        (TODAY + dt.timedelta(days=10), True),  # cancelled before it began
    ],
)
def test_the_covering_query_agrees_with_last_day(now, starts_on, cancel):
    contract = ContractFactory(starts_on=starts_on, ends_on=dt.date(2026, 6, 30))
    if cancel:
        contract = contract_cancel(contract=contract)
    terms = ServiceContract.objects.filter(pk=contract.pk)

    for first, last in [
        (dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 31)),
        (TODAY - dt.timedelta(days=1), TODAY - dt.timedelta(days=1)),
        (TODAY, TODAY),
        (TODAY, dt.date(2025, 3, 31)),
        (dt.date(2025, 3, 1), dt.date(2025, 3, 31)),
        (dt.date(2025, 4, 1), dt.date(2025, 4, 30)),
    ]:
        days = (last - first).days + 1
        expected = any(contract.covers(first + dt.timedelta(days=d)) for d in range(days))
        assert terms.covering(first, last).exists() == expected, (first, last)


def test_a_term_started_the_day_another_was_cancelled_is_the_only_one_covering_it(now):
    old = ContractFactory(starts_on=dt.date(2024, 6, 1))
    client = old.client
    contract_cancel(contract=old)
    new = contract_start(client=client, plan=old.plan, discount_percent=Decimal(0))

    assert list(ServiceContract.objects.for_client(client).covering(TODAY, TODAY)) == [new]


# --- Locks (PostgreSQL) -------------------------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["renew", "cancel", "accept"])
def test_a_contract_change_does_not_wait_for_a_lock_on_its_plan(change, mailoutbox):
    # Renewals, cancellations and accepted offers of one plan must not queue behind each other:
    # they lock their own rows, never the shared plan (inserting a contract only takes a key
    # share on it, which others may hold at the same time).
    offer = OfferFactory()
    contract = ContractFactory(plan=offer.plan)
    other = ContractFactory(plan=offer.plan)
    renewing, release = threading.Event(), threading.Event()

    def renew_the_other_and_wait() -> None:
        try:
            with transaction.atomic():
                contract_renew(contract=other)
                renewing.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=renew_the_other_and_wait)
    holder.start()
    assert renewing.wait(10)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # Waiting for another transaction's lock fails fast instead of hanging the test.
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            if change == "renew":
                contract_renew(contract=contract)
            elif change == "cancel":
                contract_cancel(contract=contract, reason="Closed")
            else:
                offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")
    finally:
        release.set()
        holder.join(10)
