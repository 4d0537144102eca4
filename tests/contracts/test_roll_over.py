"""The daily roll-over keeps "active" true to the term: automatic contracts renew, manual ones end."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clients.models import ClientStatus
from contracts.models import ContractStatus, RenewalMode, ServiceContract
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_renew,
    contracts_roll_over,
)
from offers.models import OfferStatus
from tests.conftest import DAY, HOUR, NOW, TODAY
from tests.factories import ClientFactory, ContactFactory, ContractFactory, TicketFactory
from tickets.models import QueueTier
from tickets.services import ticket_open, time_log

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now(time_machine):
    time_machine.move_to(NOW, tick=False)


def test_an_automatic_contract_past_its_term_is_renewed_without_a_gap():
    contract = ContractFactory(
        starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2026, 3, 31), renewal=RenewalMode.AUTOMATIC
    )

    assert contracts_roll_over(today=dt.date(2026, 4, 2)) == (1, 0)

    current = ServiceContract.objects.active().get(client=contract.client)
    assert (current.starts_on, current.ends_on) == (dt.date(2026, 4, 1), dt.date(2027, 3, 31))
    assert current.renewed_from_id == contract.pk
    assert current.monthly_price == contract.monthly_price


def test_a_roll_over_after_a_long_outage_catches_up_term_by_term():
    plan_months = 3
    contract = ContractFactory(
        starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 6, 30), renewal=RenewalMode.AUTOMATIC
    )
    contract.plan.term_months = plan_months
    contract.plan.save()

    contracts_roll_over(today=dt.date(2026, 4, 2))

    current = ServiceContract.objects.active().get(client=contract.client)
    assert current.starts_on <= dt.date(2026, 4, 2) <= current.ends_on
    assert ServiceContract.objects.filter(client=contract.client).count() == 5


def test_a_manual_contract_past_its_term_ends_and_its_tickets_lose_the_guarantee():
    contract = ContractFactory(
        starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2026, 3, 31), renewal=RenewalMode.MANUAL
    )
    ContactFactory(client=contract.client)
    ticket = ticket_open(client=contract.client, subject="Mail server down")
    assert ticket.queue_tier == QueueTier.CONTRACT

    assert contracts_roll_over(today=dt.date(2026, 4, 2)) == (0, 1)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ENDED
    assert contract.ended_at == NOW
    ticket.refresh_from_db()
    assert ticket.queue_tier == QueueTier.STANDARD
    assert ticket.response_due_at is None


def test_contracts_still_in_their_term_are_left_alone():
    contract = ContractFactory(starts_on=dt.date(2025, 4, 2), ends_on=dt.date(2026, 4, 1))

    assert contracts_roll_over(today=dt.date(2026, 4, 1)) == (0, 0)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.ACTIVE


def test_dropping_a_client_on_contract_is_refused_and_changes_nothing():
    contract = ContractFactory()

    with pytest.raises(ContractError, match="holds an active contract"):
        client_drop_unless_contracted(client=contract.client, reason="Never pays")

    contract.client.refresh_from_db()
    assert contract.client.status == ClientStatus.ACTIVE


def test_dropping_a_transactional_client_withdraws_its_open_offer(
    django_capture_on_commit_callbacks,
):
    from offers.services import offer_send_now
    from tests.factories import PlanFactory

    PlanFactory()
    client = ClientFactory()
    ContactFactory(client=client)
    with django_capture_on_commit_callbacks(execute=False):
        offer = offer_send_now(client=client)

    client_drop_unless_contracted(client=client, reason="Moved away")

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    client.refresh_from_db()
    assert client.status == ClientStatus.DROPPED


def test_time_logged_for_a_contract_client_draws_on_the_contract_even_before_a_renewed_term(
    now, consultant
):
    # An early renewal ends this term now and starts the next on the old end date + 1: the
    # client is covered all along, so the work is covered, not billed.
    contract = ContractFactory(starts_on=TODAY - 300 * DAY, ends_on=TODAY + 7 * DAY)
    contract_renew(contract=contract)
    ticket = TicketFactory(client=contract.client, opened_at=NOW - HOUR)

    entry = time_log(ticket=ticket, consultant=consultant, minutes=30, work_date=TODAY)

    assert (entry.covered_minutes, entry.billable_minutes, entry.charge) == (30, 0, None)
    assert entry.contract is not None
    assert entry.contract.monthly_price >= Decimal(0)
