"""Fixtures of the offer tests: the campaign rules most tests run under, a plan to offer, and a
mail backend that remembers its connections."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from offers.models import CampaignSettings
from tests.factories import PlanFactory, campaign_rules
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
