"""Offers under concurrency (PostgreSQL): simultaneous accepts and simultaneous campaign runs."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from contracts.models import ServiceContract
from offers.models import CampaignTrigger, ConversionOffer, OfferStatus
from offers.services import OfferClosed, campaign_run, offer_accept
from tests.conftest import SIGNER
from tests.factories import OfferFactory, PlanFactory, campaign_rules
from tests.offers.campaign_helpers import recipients, spender

pytestmark = pytest.mark.django_db


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------
def _race(workers: int, work: Any) -> tuple[list[Any], list[BaseException]]:
    """Run `work` in `workers` threads started together; return their results and errors."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def run() -> None:
        try:
            start.wait()
            results.append(work())
        except BaseException as exc:  # reported by the test; a thread must not die silently
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is still waiting on a lock"
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_of_one_offer_make_one_contract(mailoutbox):
    offer = OfferFactory()

    def accept() -> ServiceContract:
        return offer_accept(
            offer=ConversionOffer.objects.get(pk=offer.pk),
            **SIGNER,
            ip="203.0.113.7",
            user_agent="tab",
        )

    contracts, errors = _race(2, accept)

    assert len(contracts) == 1, errors
    assert [type(e) for e in errors] == [OfferClosed], errors
    assert errors[0].reason == "accepted"  # type: ignore[attr-defined]
    assert ServiceContract.objects.get().offer.pk == offer.pk
    assert ConversionOffer.objects.get(pk=offer.pk).status == OfferStatus.ACCEPTED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_campaign_runs_offer_each_client_once(mailoutbox):
    campaign_rules(min_trailing_spend=Decimal("500.00"), cooldown_days=90, max_offers_per_run=100)
    PlanFactory(monthly_price=Decimal("40.00"))  # less than the 600.00 each spent
    # The real clock: the send tasks (in these threads) skip offers that have expired.
    clients = [spender(at=timezone.now()) for _ in range(20)]

    runs, errors = _race(2, lambda: campaign_run(trigger=CampaignTrigger.MANUAL))

    assert not errors, errors
    # The settings row lock queues the second run behind the first; it then finds every client
    # with an open offer.
    assert sorted(r.offers_created for r in runs) == [0, len(clients)]
    assert ConversionOffer.objects.count() == len(clients)
    assert recipients(mailoutbox) == sorted(c.contacts.get().email for c in clients)
