from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consultancy.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Load a believable demo practice (plans, clients, contracts, nearly two years of tickets, "
        "time and charges, past campaign runs and their offers) plus demo accounts. Does "
        "nothing if clients already exist."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--clients", type=int, default=200, help="number of clients (default 200)"
        )
        parser.add_argument(
            "--tickets", type=int, default=5000, help="number of tickets (default 5000)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["clients"] < 1 or options["tickets"] < 0:
            raise CommandError("--clients must be at least 1 and --tickets at least 0.")
        if options["clients"] > 1_000_000 or options["tickets"] > 5_000_000:
            raise CommandError(
                "That is more than a demo needs (at most 1,000,000 clients, 5,000,000 tickets)."
            )
        started = time.monotonic()
        report = seed_demo(
            clients=options["clients"], tickets=options["tickets"], seed=options["seed"]
        )
        if report.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo practice created in {time.monotonic() - started:.1f}s: "
                    f"{report.clients} clients, {report.contracts} on contracts, "
                    f"{report.tickets} tickets ({report.open_tickets} open), "
                    f"{report.time_entries} time entries, {report.charges} charges, "
                    f"{report.invoices} invoices for the months before last."
                )
            )
            self.stdout.write(
                f"Conversion history: {report.campaign_runs} past campaign runs, "
                f"{report.offers} offers ({report.offers_accepted} accepted, "
                f"{report.offers_declined} declined, {report.offers_expired} expired, "
                f"{report.offers_open} still open). See what a run would offer now: "
                "python manage.py run_conversion_campaign --dry-run"
            )
        else:
            self.stdout.write(
                f"Demo data already present ({report.clients} clients, {report.tickets} tickets): nothing changed."
            )
        self.stdout.write("Sign in at http://127.0.0.1:8000/accounts/login/ with:")
        for username, password, group in report.users:
            self.stdout.write(f"  {group[:-1].lower():<10} {username:<11} password: {password}")
