"""Fixtures of the offer tests: the campaign rules most tests run under, a plan to offer, and a
mail backend that remembers its connections."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from clients.models import ChargeKind, Client
from offers.models import CampaignSettings
from tests.factories import ChargeFactory, OfferableClientFactory, PlanFactory, campaign_rules
from tests.offers.mail_backends import RecordingBackend


@pytest.fixture
def rules(db: None) -> CampaignSettings:
    return campaign_rules(
        min_trailing_spend=Decimal("500.00"),
        min_trailing_tickets=4,
        cooldown_days=90,
        offer_lifetime_days=21,
        reminder_days_before_expiry=3,
        base_discount_percent=Decimal("5.00"),
        tenure_bonus_percent_per_year=Decimal("1.00"),
        max_discount_percent=Decimal("12.00"),
        max_offers_per_run=10_000,
    )


@pytest.fixture
def basic(db: None) -> Any:
    # Cheap enough that the spenders of these tests (a few hundred a year) fit as a saving.
    return PlanFactory(name="Basic", monthly_price=Decimal("40.00"), included_hours=5)


@pytest.fixture
def backend(settings: Any, mailoutbox: list[Any]) -> type[RecordingBackend]:
    RecordingBackend.connections = []
    settings.EMAIL_BACKEND = "tests.offers.mail_backends.RecordingBackend"
    return RecordingBackend


def bill_monthly(client: Client, hours: list[int], rate: str = "125.00") -> None:
    """Bill `hours` of labour at `rate` in each month from March 2024 to February 2025."""
    for i, h in enumerate(hours):
        if h:
            when = dt.datetime(2024, 3, 15, 12, tzinfo=dt.UTC) + dt.timedelta(days=30.5 * i)
            ChargeFactory(client=client, amount=Decimal(rate) * h, hours=h, occurred_at=when)


@pytest.fixture
def practice(now: dt.datetime) -> dict[str, Client]:
    """Two plans; a heavy client a contract saves money, a light one who bought priority, a
    light one who did not, and one below both thresholds."""
    campaign_rules(
        min_trailing_spend=Decimal("500.00"),
        min_trailing_tickets=4,
        cooldown_days=90,
        base_discount_percent=Decimal("5.00"),
        tenure_bonus_percent_per_year=Decimal("1.00"),
        max_discount_percent=Decimal("12.00"),
        max_offers_per_run=10_000,
    )
    PlanFactory(
        name="Essentials",
        monthly_price=Decimal("290.00"),
        included_hours=5,
        overage_hourly_rate=Decimal("120.00"),
    )
    PlanFactory(
        name="Standard",
        monthly_price=Decimal("490.00"),
        included_hours=10,
        overage_hourly_rate=Decimal("100.00"),
    )
    # Three full years (8%). 2 hours a month and 20 in August: 42 hours, 5,250.00 paid.
    acme = OfferableClientFactory(name="Acme Dental", customer_since=dt.date(2022, 3, 10))
    bill_monthly(acme, [2, 2, 2, 2, 2, 20, 2, 2, 2, 2, 2, 2])
    # Under a year (5%). Two hours a month for half the year, one for the rest: 2,250.00, and
    # priority bought once for 75.00.
    bolt = OfferableClientFactory(name="Bolt Logistics", customer_since=dt.date(2024, 9, 1))
    bill_monthly(bolt, [2] * 6 + [1] * 6)
    ChargeFactory(
        client=bolt,
        kind=ChargeKind.PAID_PRIORITY,
        amount=Decimal("75.00"),
        occurred_at=dt.datetime(2024, 12, 3, tzinfo=dt.UTC),
    )
    # Under a year (5%). An hour a month for half the year: 750.00, no need shown.
    cask = OfferableClientFactory(name="Cask Brewery", customer_since=dt.date(2024, 9, 1))
    bill_monthly(cask, [1] * 6 + [0] * 6)
    small = OfferableClientFactory(name="Corner Bakery")
    ChargeFactory(client=small, amount=Decimal("200.00"), hours=2)
    return {"acme": acme, "bolt": bolt, "cask": cask, "small": small}
