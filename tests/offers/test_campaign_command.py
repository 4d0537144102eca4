"""`manage.py run_conversion_campaign`: a dry run prints who would be offered what and touches
nothing; a real run records a manual campaign run and sends the offers."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from email.utils import parseaddr
from io import StringIO

import pytest
from django.core.management import call_command

from clients.models import ChargeKind, Client
from contracts.models import ContractPlan
from offers.models import CampaignRun, CampaignTrigger, ConversionOffer, OfferStatus
from tests.factories import (
    ChargeFactory,
    ContactFactory,
    OfferableClientFactory,
    PlanFactory,
    campaign_rules,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice(now: dt.datetime) -> dict[str, Client]:
    """Two plans, two eligible clients, one who is not (below both thresholds)."""
    campaign_rules(
        min_trailing_spend=Decimal("500.00"),
        min_trailing_tickets=4,
        cooldown_days=90,
        base_discount_percent=Decimal("5.00"),
        tenure_bonus_percent_per_year=Decimal("1.00"),
        max_discount_percent=Decimal("12.00"),
        max_offers_per_run=10_000,
    )
    PlanFactory(name="Essentials", monthly_price=Decimal("290.00"), included_hours=5)
    PlanFactory(name="Standard", monthly_price=Decimal("490.00"), included_hours=10)
    # Three full years (8%); 72 hours a year is 6 a month, so Standard; paid 9,000 + 75.
    acme = OfferableClientFactory(name="Acme Dental", customer_since=dt.date(2022, 3, 10))
    ChargeFactory(client=acme, amount=Decimal("9000.00"), hours=72)
    ChargeFactory(client=acme, kind=ChargeKind.PAID_PRIORITY, amount=Decimal("75.00"))
    # Under a year (5%); 12 hours a year is 1 a month, so Essentials; paid 1,500.
    bolt = OfferableClientFactory(name="Bolt Logistics", customer_since=dt.date(2024, 9, 1))
    ChargeFactory(client=bolt, amount=Decimal("1500.00"), hours=12)
    small = OfferableClientFactory(name="Corner Bakery")
    ChargeFactory(client=small, amount=Decimal("200.00"), hours=2)
    return {"acme": acme, "bolt": bolt, "small": small}


def _run(*args: str) -> str:
    out = StringIO()
    call_command("run_conversion_campaign", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_prints_each_eligible_client_with_plan_discount_and_price(
    practice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = _run("--dry-run")

    header, *lines = output.strip().splitlines()
    assert header.split()[:4] == ["Client", "Plan", "Off", "Price"]
    acme_email = practice["acme"].contacts.get().email
    bolt_email = practice["bolt"].contacts.get().email
    # Best-ranked (highest spend) first.
    assert re.fullmatch(
        r"Acme Dental\s+Standard\s+8%\s+\$450\.80/mo\s+paid\s+\$9,075\.00\s+"
        rf"saves \$3,665\.40\s+<{re.escape(acme_email)}>",
        lines[0],
    ), lines[0]
    # 290 x 0.95 = 275.50 a month, 3,306.00 a year against 1,500.00 paid.
    assert re.fullmatch(
        r"Bolt Logistics\s+Essentials\s+5%\s+\$275\.50/mo\s+paid\s+\$1,500\.00\s+"
        rf"costs \$1,806\.00 more\s+<{re.escape(bolt_email)}>",
        lines[1],
    ), lines[1]
    assert lines[2] == "Dry run: 2 client(s) would get an offer. Nothing was sent."
    assert "Corner Bakery" not in output
    # Nothing written, nothing queued, nothing sent.
    assert not ConversionOffer.objects.exists()
    assert not CampaignRun.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


def test_a_dry_run_with_nobody_eligible_says_so(now, mailoutbox):
    PlanFactory()

    output = _run("--dry-run")

    assert output.strip() == "Dry run: 0 client(s) would get an offer. Nothing was sent."


def test_a_dry_run_cut_by_the_per_run_cap_says_how_many_qualify(practice):
    campaign_rules(max_offers_per_run=1)

    output = _run("--dry-run")

    assert "Acme Dental" in output
    assert "Bolt Logistics" not in output
    assert output.strip().splitlines()[-1] == (
        "Dry run: 1 client(s) would get an offer (2 qualify; the per-run cap in the campaign "
        "settings leaves the rest for the next run). Nothing was sent."
    )


def test_a_dry_run_with_no_plan_offered_says_so_and_does_not_blame_the_cap(practice):
    ContractPlan.objects.update(is_offered=False)

    output = _run("--dry-run")

    assert output.strip() == (
        "Dry run: no plan is offered, so nobody would get an offer (2 client(s) qualify). "
        "Tick “Is offered” on a plan in the admin. Nothing was sent."
    )
    assert "cap" not in output


def test_a_dry_run_shows_a_client_with_no_primary_contact_nowhere(practice):
    practice["bolt"].contacts.update(is_primary=False)
    ContactFactory(client=practice["bolt"], is_primary=False)

    output = _run("--dry-run")

    assert "Bolt Logistics" not in output
    assert "Dry run: 1 client(s) would get an offer." in output


def test_a_real_run_records_a_manual_run_and_sends_the_offers(
    practice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = _run()

    run = CampaignRun.objects.get()
    assert run.trigger == CampaignTrigger.MANUAL
    assert run.offers_created == 2
    assert (
        f"Campaign run {run.pk}: 2 offer(s) created (2 client(s) qualified); emails queued."
        in output
    )
    offers = {o.client.name: o for o in run.offers.select_related("client")}
    assert set(offers) == {"Acme Dental", "Bolt Logistics"}
    assert offers["Acme Dental"].monthly_price == Decimal("450.80")
    assert offers["Bolt Logistics"].monthly_price == Decimal("275.50")
    assert {o.status for o in offers.values()} == {OfferStatus.SENT}
    assert sorted(parseaddr(a)[1] for m in mailoutbox for a in m.to) == sorted(
        o.email for o in offers.values()
    )


def test_running_the_command_twice_offers_nobody_twice(
    practice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _run()
        output = _run()

    assert "0 offer(s) created" in output
    assert ConversionOffer.objects.count() == 2
    assert len(mailoutbox) == 2
