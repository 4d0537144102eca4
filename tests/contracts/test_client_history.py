"""The client's history: every service that changes a client's standing writes one line of it,
in the same transaction, saying who did what; a change that is refused or rolled back leaves none."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from clients.models import ClientEvent, ClientEventKind
from clients.services import client_reinstate
from contracts.models import ContractStatus, RenewalMode
from contracts.services import (
    ContractError,
    client_drop_unless_contracted,
    contract_cancel,
    contract_renew,
    contract_start,
    contracts_roll_over,
)
from offers.models import OfferStatus
from offers.services import (
    OfferClosed,
    client_opt_out_set,
    offer_accept,
    offer_decline,
    offer_send_now,
    offer_unsubscribe,
)
from tests.conftest import NOW, SIGNER
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContractFactory,
    OfferableClientFactory,
    OfferFactory,
    PlanFactory,
    UserFactory,
    campaign_rules,
)

pytestmark = pytest.mark.django_db


def _history(client: Any) -> list[tuple[str, str, Any]]:
    """The client's history, oldest first, as (kind, summary, by)."""
    return [
        (e.kind, e.summary, e.by) for e in ClientEvent.objects.filter(client=client).order_by("pk")
    ]


def test_starting_a_contract_records_its_terms_and_who_started_it(now):
    alice = UserFactory(username="alice")
    client = ClientFactory()
    plan = PlanFactory(name="Standard", monthly_price=Decimal("490.00"), term_months=12)

    contract_start(client=client, plan=plan, discount_percent=Decimal("8"), by=alice)

    assert _history(client) == [
        (
            ClientEventKind.CONTRACT_STARTED,
            "Started Standard at $450.80 a month (8% off), 2025-03-10 to 2026-03-09",
            alice,
        )
    ]
    assert ClientEvent.objects.get().at == NOW


def test_renewing_cancelling_and_ending_are_each_recorded(now):
    alice = UserFactory(username="alice")
    plan = PlanFactory(name="Essentials", monthly_price=Decimal("290.00"))
    renewing = ContractFactory(plan=plan, starts_on=dt.date(2024, 3, 10))
    cancelling = ContractFactory(plan=plan)
    lapsing = ContractFactory(
        plan=plan,
        renewal=RenewalMode.MANUAL,
        starts_on=dt.date(2024, 3, 1),
        ends_on=dt.date(2025, 2, 28),
    )

    contract_renew(contract=renewing, by=alice)
    contract_cancel(contract=cancelling, reason="Moved to another provider", by=alice)
    contracts_roll_over(today=dt.date(2025, 3, 10))

    assert _history(renewing.client) == [
        (
            ClientEventKind.CONTRACT_RENEWED,
            "Renewed Essentials at $290.00 a month, 2025-03-10 to 2026-03-09",
            alice,
        )
    ]
    assert _history(cancelling.client) == [
        (
            ClientEventKind.CONTRACT_CANCELLED,
            "Cancelled Essentials: Moved to another provider",
            alice,
        )
    ]
    # The daily roll-over is nobody's doing: no user.
    assert _history(lapsing.client) == [
        (
            ClientEventKind.CONTRACT_ENDED,
            "Ended Essentials: Term ended (renewed by hand only)",
            None,
        )
    ]


def test_dropping_and_reinstating_record_the_reason_and_the_manager(now):
    alice = UserFactory(username="alice")
    client = ClientFactory()

    client_drop_unless_contracted(client=client, reason="Never converted", by=alice)
    client_reinstate(client=client, by=alice)

    assert _history(client) == [
        (ClientEventKind.DROPPED, "Dropped: Never converted", alice),
        (ClientEventKind.REINSTATED, "Reinstated", alice),
    ]


def test_a_refused_change_leaves_no_history(now):
    contract = ContractFactory(plan__name="Essentials")
    contract_cancel(contract=contract, reason="Closed the office")

    with pytest.raises(ContractError):
        contract_cancel(contract=contract, reason="Twice")
    with pytest.raises(ContractError):
        client_drop_unless_contracted(client=ContractFactory().client, reason="Holds a contract")

    assert [e.summary for e in ClientEvent.objects.all()] == [
        "Cancelled Essentials: Closed the office"
    ]


def test_a_change_rolled_back_by_its_caller_leaves_no_history(now):
    client, plan = ClientFactory(), PlanFactory()

    def start_then_fail() -> None:
        with transaction.atomic():
            contract_start(client=client, plan=plan)
            raise RuntimeError("the caller failed after the service returned")

    with pytest.raises(RuntimeError):
        start_then_fail()

    assert not ClientEvent.objects.exists()


def test_an_offer_made_by_hand_records_the_offer_and_the_manager(now):
    alice = UserFactory(username="alice")
    campaign_rules(base_discount_percent=Decimal("5.00"), tenure_bonus_percent_per_year=0)
    PlanFactory(name="Essentials", monthly_price=Decimal("290.00"), included_hours=5)
    client = OfferableClientFactory(customer_since=dt.date(2024, 1, 1))
    ChargeFactory(client=client, amount=Decimal("600.00"), occurred_at=NOW - dt.timedelta(days=30))

    offer = offer_send_now(client=client, by=alice)

    assert _history(client) == [
        (
            ClientEventKind.OFFER_MADE,
            f"Offered Essentials at $275.50 a month (5% loyalty discount) to {offer.email}",
            alice,
        )
    ]


def test_the_clients_answers_are_recorded_with_no_staff_member(now):
    accepted = OfferFactory(plan__name="Essentials")
    declined = OfferFactory(plan__name="Premium")
    unsubscribed = OfferFactory()

    offer_accept(offer=accepted, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")
    offer_decline(offer=declined)
    offer_unsubscribe(offer=unsubscribed)
    offer_unsubscribe(offer=unsubscribed)  # a second click changes nothing and says nothing

    assert _history(accepted.client) == [
        (
            ClientEventKind.CONTRACT_STARTED,
            "Started Essentials at $258.10 a month (11% off), 2025-03-10 to 2026-03-09 "
            "from the offer the client accepted",
            None,
        ),
        (
            ClientEventKind.OFFER_ACCEPTED,
            "Accepted Essentials at $258.10 a month (11% loyalty discount) online on terms "
            "version 1, signed by Dana Whitfield (Office manager), from 203.0.113.7",
            None,
        ),
    ]
    assert _history(declined.client) == [
        (
            ClientEventKind.OFFER_DECLINED,
            "Declined Premium at $258.10 a month (11% loyalty discount)",
            None,
        )
    ]
    assert _history(unsubscribed.client) == [
        (
            ClientEventKind.OPTED_OUT,
            f"Unsubscribed from contract offers by the link sent to {unsubscribed.email}",
            None,
        )
    ]


def test_the_history_shortens_a_very_long_signer_but_the_offer_keeps_it_whole(now):
    offer = OfferFactory(plan__name="Essentials")

    offer_accept(
        offer=offer, signer_name="N" * 200, signer_role="R" * 200, ip="203.0.113.7", user_agent=""
    )

    (line,) = [s for k, s, _ in _history(offer.client) if k == ClientEventKind.OFFER_ACCEPTED]
    assert line == (
        "Accepted Essentials at $258.10 a month (11% loyalty discount) online on terms version "
        f"1, signed by {'N' * 99}… ({'R' * 99}…), from 203.0.113.7"
    )
    offer.refresh_from_db()
    assert (offer.signer_name, offer.signer_role) == ("N" * 200, "R" * 200)


def test_an_accept_that_is_refused_records_nothing(now):
    offer = OfferFactory()
    offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")
    before = ClientEvent.objects.count()

    with pytest.raises(OfferClosed):
        offer_accept(offer=offer, **SIGNER, ip="203.0.113.7", user_agent="Mail/1.0")

    assert ClientEvent.objects.count() == before
    assert offer.client.contracts.get().status == ContractStatus.ACTIVE


def test_opting_out_by_hand_withdraws_open_offers_and_records_who(now):
    alice = UserFactory(username="alice")
    offer = OfferFactory()

    client_opt_out_set(client=offer.client, opt_out=True, by=alice)
    client_opt_out_set(client=offer.client, opt_out=True, by=alice)  # already out: no new line
    client_opt_out_set(client=offer.client, opt_out=False, by=alice)

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert _history(offer.client) == [
        (ClientEventKind.OPTED_OUT, "Opted out of contract offers", alice),
        (ClientEventKind.OPTED_IN, "Opted back in to contract offers", alice),
    ]
    offer.client.refresh_from_db()
    assert not offer.client.offers_opt_out
