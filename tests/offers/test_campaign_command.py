"""`manage.py run_conversion_campaign`: a dry run prints who would be offered what and touches
nothing; a real run records a manual campaign run and sends the offers."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from email.utils import parseaddr
from io import StringIO

import pytest
from django.core.management import call_command

from contracts.models import ContractPlan
from offers.models import CampaignRun, CampaignTrigger, ConversionOffer, OfferStatus
from tests.factories import (
    ContactFactory,
    PlanFactory,
    campaign_rules,
)

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("run_conversion_campaign", *args, stdout=out)
    return out.getvalue()


def test_a_dry_run_prints_each_candidate_with_its_offer_and_why(
    practice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = _run("--dry-run")

    header, legend, *lines = output.strip().splitlines()
    assert legend.strip() == "then each month: hours worked, paid / the contract's cost"
    assert header.split()[:5] == ["Client", "Offer", "Plan", "Off", "Price"]
    # Best-ranked (highest spend) first, each followed by its twelve months.
    # Acme: Essentials at 8% off, 266.80 x 12 + 15 h x 120.00 = 5,001.60 against 5,250.00.
    assert re.match(
        r"Acme Dental\s+savings\s+Essentials\s+8%\s+\$266\.80/mo\s+\$5,250\.00\s+\$5,001\.60\s+"
        r"saves \$248\.40\s+Savings: ",
        lines[0],
    ), lines[0]
    assert "2024-08 20.00h $2,500.00/$2,066.80" in lines[1]
    # Bolt: 275.50 x 12 = 3,306.00 against 2,325.00: 981.00 more (42%), 81.75 a month.
    assert re.match(
        r"Bolt Logistics\s+value\s+Essentials\s+5%\s+\$275\.50/mo\s+\$2,325\.00\s+\$3,306\.00\s+"
        r"costs \$981\.00 more \(\$81\.75/mo\)\s+Value: .*bought paid priority once\.",
        lines[2],
    ), lines[2]
    # Cask: 3,306.00 against 750.00 and no need: no offer, and the table says why.
    assert re.match(r"Cask Brewery\s+none\s+Essentials", lines[4]), lines[4]
    assert "no need for faster service" in lines[4]
    assert lines[6] == (
        "Dry run: 3 client(s) qualify; 2 would get an offer (1 savings, 1 value), "
        "1 no offer. Nothing was sent."
    )
    assert "Corner Bakery" not in output
    # Nothing written, nothing queued, nothing sent.
    assert not ConversionOffer.objects.exists()
    assert not CampaignRun.objects.exists()
    assert callbacks == []
    assert mailoutbox == []


def test_a_json_dry_run_prints_one_object_per_candidate(practice):
    output = _run("--dry-run", "--json")

    rows = [json.loads(line) for line in output.strip().splitlines()]
    assert [(r["client_id"], r["kind"]) for r in rows] == [
        (practice["acme"].pk, "savings"),
        (practice["bolt"].pk, "value"),
        (practice["cask"].pk, "none"),
    ]
    acme = rows[0]
    essentials = ContractPlan.objects.get(name="Essentials")
    assert acme["plan_id"] == essentials.pk
    assert acme["discount_percent"] == "8.00"
    assert acme["trailing_spend"] == "5250.00"
    assert acme["replayed_cost"] == "5001.60"
    assert len(acme["monthly"]) == 12
    assert acme["monthly"][5]["month"] == "2024-08"
    assert (acme["monthly"][5]["hours"], acme["monthly"][5]["cost"]) == ("20.00", "2066.80")
    assert sum(Decimal(m["cost"]) for m in acme["monthly"]) == Decimal(acme["replayed_cost"])
    assert rows[2]["reason"].startswith("No offer: ")


def test_json_without_dry_run_is_refused(practice):
    with pytest.raises(SystemExit):
        call_command("run_conversion_campaign", "--json", stdout=StringIO(), stderr=StringIO())
    assert not CampaignRun.objects.exists()


def test_a_dry_run_with_nobody_eligible_says_so(now, mailoutbox):
    PlanFactory()

    output = _run("--dry-run")

    assert output.strip() == (
        "Dry run: 0 client(s) qualify; 0 would get an offer (0 savings, 0 value), 0 no offer. "
        "Nothing was sent."
    )


def test_a_dry_run_cut_by_the_per_run_cap_says_so(practice):
    campaign_rules(max_offers_per_run=1)

    output = _run("--dry-run")

    assert output.strip().splitlines()[-1] == (
        "Dry run: 3 client(s) qualify; 1 would get an offer (1 savings, 0 value) (the per-run "
        "cap in the campaign settings leaves the rest for the next run), 1 no offer. "
        "Nothing was sent."
    )


def test_a_dry_run_with_no_plan_offered_says_so_and_does_not_blame_the_cap(practice):
    ContractPlan.objects.update(is_offered=False)

    output = _run("--dry-run")

    assert output.strip() == (
        "Dry run: no plan is offered with terms, so nobody would get an offer (3 client(s) "
        "qualify). Tick “Is offered” on a plan in the admin. Nothing was sent."
    )
    assert "cap" not in output


def test_a_dry_run_shows_a_client_with_no_primary_contact_nowhere(practice):
    practice["bolt"].contacts.update(is_primary=False)
    ContactFactory(client=practice["bolt"], is_primary=False)

    output = _run("--dry-run")

    assert "Bolt Logistics" not in output
    assert "Dry run: 2 client(s) qualify; 1 would get an offer" in output


def test_a_real_run_records_a_manual_run_and_sends_the_offers(
    practice, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = _run()

    run = CampaignRun.objects.get()
    assert run.trigger == CampaignTrigger.MANUAL
    assert run.offers_created == 2
    assert (run.savings_offers, run.value_offers, run.not_offered) == (1, 1, 1)
    assert run.not_offered_reasons == {
        "costs more than it paid; no need for faster service shown": 1
    }
    assert (
        f"Campaign run {run.pk}: 2 offer(s) created (1 savings, 1 value; 3 client(s) "
        "qualified, 1 not offered because no contract fits them); emails queued." in output
    )
    offers = {o.client.name: o for o in run.offers.select_related("client")}
    assert set(offers) == {"Acme Dental", "Bolt Logistics"}
    assert offers["Acme Dental"].monthly_price == Decimal("266.80")
    assert offers["Acme Dental"].kind == "savings"
    assert offers["Bolt Logistics"].monthly_price == Decimal("275.50")
    assert offers["Bolt Logistics"].kind == "value"
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
