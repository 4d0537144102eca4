from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.models import RunTrigger
from billing.periods import Period, PeriodError
from billing.run import billing_run
from billing.services import BillingError
from clients.money import money


class Command(BaseCommand):
    help = (
        "Post each contract's monthly fee and overage for a month to the ledger "
        "(prorated by day in a part month); with --issue, issue that month's invoices too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period",
            help="the month to bill, like 2026-11 (default: last month)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be posted; change nothing"
        )
        parser.add_argument("--issue", action="store_true", help="also issue the month's invoices")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"] and options["issue"]:
            raise CommandError("--dry-run changes nothing, so it cannot --issue; pick one.")
        try:
            period = Period.parse(options["period"]) if options["period"] else Period.last_closed()
            result = billing_run(
                period=period,
                trigger=RunTrigger.COMMAND,
                dry_run=options["dry_run"],
                issue=options["issue"],
            )
        except (PeriodError, BillingError) as error:
            raise CommandError(str(error)) from None
        verbosity = options["verbosity"]
        if result.dry_run and verbosity >= 1:
            for line in result.lines:
                self.stdout.write(f"  {line}")
        done = "would post" if result.dry_run else "posted"
        self.stdout.write(
            f"{period.label}: {done} {result.contracts} contract(s): fees "
            f"{money(result.fees)}, overage {money(result.overage)} "
            f"({result.overage_minutes} min); total {money(result.total)}."
        )
        if result.dry_run:
            self.stdout.write("Dry run: nothing was posted.")
        elif options["issue"] and result.invoices:
            self.stdout.write(f"Issued {result.invoices} invoice(s) for {period.label}.")
        elif options["issue"]:
            self.stdout.write(
                f"Nothing new to invoice for {period.label}: its invoices are issued; charges "
                f"posted since go on {period.next.label}'s."
            )
        if not result.contracts:
            self.stdout.write(result.summary)
