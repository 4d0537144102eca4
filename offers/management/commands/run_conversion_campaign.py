from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clients.money import money, percent
from contracts.models import ContractPlan
from offers.campaign import Fit
from offers.drafts import CampaignDraft, campaign_preview, verdict_words
from offers.models import CampaignTrigger
from offers.services import campaign_run


class Command(BaseCommand):
    help = (
        "Offer a contract with a loyalty discount to every eligible transactional client it "
        "fits: a saving where the replayed year costs no more, a premium for value where the "
        "client showed a need for faster service."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print who would be offered what, and why, and send nothing",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="with --dry-run: one JSON object per candidate, one per line",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["json"] and not options["dry_run"]:
            self.stderr.write("--json only goes with --dry-run.")
            raise SystemExit(2)
        if options["dry_run"]:
            preview = campaign_preview()
            if options["json"]:
                for draft in preview.candidates:
                    self.stdout.write(json.dumps(draft.as_json()))
                return
            self._table(preview)
            return
        run = campaign_run(trigger=CampaignTrigger.MANUAL)
        self.stdout.write(
            self.style.SUCCESS(
                f"Campaign run {run.pk}: {run.offers_created} offer(s) created "
                f"({run.savings_offers} savings, {run.value_offers} value; "
                f"{run.eligible_clients} client(s) qualified, {run.not_offered} not offered "
                "because no contract fits them); emails queued."
            )
        )

    def _table(self, preview: CampaignDraft) -> None:
        if preview.no_plan_offered:
            self.stdout.write(
                f"Dry run: no plan is offered with terms, so nobody would get an offer "
                f"({preview.eligible} client(s) qualify). Tick “Is offered” on a plan in the "
                "admin. Nothing was sent."
            )
            return
        drafts = preview.candidates
        names = dict(
            ContractPlan.objects.filter(pk__in={d.plan.plan_id for d in drafts}).values_list(
                "pk", "name"
            )
        )
        if drafts:
            self.stdout.write(
                f"{'Client':<32} {'Offer':<8} {'Plan':<14} {'Off':>6} {'Price':>10}     "
                f"{'Paid, 12 mo':>12} {'Contract':>12}  Against what it paid  Reason"
            )
            self.stdout.write("    then each month: hours worked, paid / the contract's cost")
        for d in drafts:
            self.stdout.write(
                f"{d.client.name[:32]:<32} {d.fit:<8} {names[d.plan.plan_id][:14]:<14} "
                f"{percent(d.discount_percent):>6} {money(d.replay.monthly_price):>10}/mo "
                f"{money(d.trailing_spend):>12} {money(d.replayed_cost):>12}  "
                f"{verdict_words(d):<20}  {d.verdict.reason}"
            )
            self.stdout.write(
                "    "
                + "  ".join(
                    f"{m.month} {m.hours}h {money(m.paid)}/{money(m.cost)}" for m in d.replay.months
                )
            )
        capped = (
            " (the per-run cap in the campaign settings leaves the rest for the next run)"
            if preview.capped
            else ""
        )
        self.stdout.write(
            f"Dry run: {preview.eligible} client(s) qualify; {len(preview.offers)} would get an "
            f"offer ({preview.count(Fit.SAVINGS)} savings, {preview.count(Fit.VALUE)} value)"
            f"{capped}, {len(preview.not_offered)} no offer. Nothing was sent."
        )
