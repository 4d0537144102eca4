from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from clients.money import money, percent
from contracts.models import ContractPlan
from offers.models import CampaignTrigger
from offers.services import campaign_preview, campaign_run


class Command(BaseCommand):
    help = "Offer a contract with a loyalty discount to every eligible transactional client."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print who would be offered what, and send nothing",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            preview = campaign_preview()
            drafts = preview.offers
            plans = {d.plan.plan_id for d in drafts}
            names = dict(ContractPlan.objects.filter(pk__in=plans).values_list("pk", "name"))
            if drafts:
                self.stdout.write(
                    f"{'Client':<40} {'Plan':<14} {'Off':>6} {'Price':>10}     "
                    f"{'Paid, last 12 months':>20}  Against the contract  <Primary contact>"
                )
            for d in drafts:
                s = d.savings
                verdict = (
                    f"saves {money(s.difference)}"
                    if s.difference >= 0
                    else f"costs {money(-s.difference)} more"
                )
                self.stdout.write(
                    f"{d.client.name[:40]:<40} {names[d.plan.plan_id]:<14} "
                    f"{percent(s.discount_percent):>6} {money(s.monthly_price):>10}/mo  "
                    f"paid {money(s.trailing_spend):>11}  {verdict}  <{d.email}>"
                )
            if preview.no_plan_offered:
                self.stdout.write(
                    f"Dry run: no plan is offered, so nobody would get an offer "
                    f"({preview.eligible} client(s) qualify). Tick “Is offered” on a plan in "
                    "the admin. Nothing was sent."
                )
                return
            capped = (
                f" ({preview.eligible} qualify; the per-run cap in the campaign settings "
                "leaves the rest for the next run)"
                if preview.capped
                else ""
            )
            self.stdout.write(
                f"Dry run: {len(drafts)} client(s) would get an offer{capped}. Nothing was sent."
            )
            return
        run = campaign_run(trigger=CampaignTrigger.MANUAL)
        self.stdout.write(
            self.style.SUCCESS(
                f"Campaign run {run.pk}: {run.offers_created} offer(s) created "
                f"({run.eligible_clients} client(s) qualified); emails queued."
            )
        )
