from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from billing.exports import IMPORT_LIMITS, LAYOUTS, InvoiceExport, export_invoices
from billing.models import ExportFormat
from billing.periods import Period, PeriodError


class Command(BaseCommand):
    help = (
        "Write a month's issued invoices as a CSV file for Xero's sales-invoice import or "
        "QuickBooks Online's invoice import, and mark them exported in that format "
        "(docs/billing-exports.md). The CSV goes to stdout unless --output is given; the "
        "summary goes to stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="the month, like 2026-11")
        parser.add_argument(
            "--format", required=True, choices=list(LAYOUTS), help="the accounting software"
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help="include invoices exported in this format before (default: only new ones)",
        )
        parser.add_argument("--output", metavar="FILE", help="write the CSV here, not to stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = Period.parse(options["period"])
        except PeriodError as error:
            raise CommandError(str(error)) from None
        if not period.has_ended(timezone.localdate()):
            raise CommandError(
                f"{period.label} has not ended yet; export it from 1 {period.next.label} onwards."
            )
        output = Path(options["output"]) if options["output"] else None
        if output is not None and not output.parent.is_dir():
            raise CommandError(f"{output.parent} is not a folder; nothing was exported.")
        # The marks commit only once the file is written: a write that fails leaves the
        # invoices unexported, ready for the next try.
        with transaction.atomic():
            try:
                export = export_invoices(
                    period=period,
                    export_format=options["format"],
                    include_exported=options["all"],
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
            if output is None:
                self.stdout.write(export.content, ending="")
            else:
                # newline="": the rows end in "\r\n" already; no translation on any system.
                output.write_text(export.content, encoding="utf-8", newline="")
        summary = self._summary(export, period, ExportFormat(options["format"]), output)
        # Plain: stderr is styled as an error by default, and this is a report.
        self.stderr.write(summary, style_func=str)

    def _summary(
        self,
        export: InvoiceExport,
        period: Period,
        export_format: ExportFormat,
        output: Path | None,
    ) -> str:
        name = export_format.label
        where = f" to {output}" if output else ""
        if not export.invoices:
            summary = (
                f"{name}: nothing new to export for {period.label}; the file{where} has the "
                "header only (--all exports the month again)."
            )
        else:
            summary = (
                f"{name}: {export.invoices} invoice(s), {export.rows} row(s) for "
                f"{period.label}{where}."
            )
        if export.left_out:
            summary += (
                f"\nLeft out {export.left_out} credit note(s) of {period.label}: {name}'s invoice "
                "import takes none; enter them there by hand."
            )
        most_rows, most_invoices = IMPORT_LIMITS[export_format]
        if export.rows > most_rows or (most_invoices and export.invoices > most_invoices):
            limit = f"{most_rows} rows" + (f" or {most_invoices} invoices" if most_invoices else "")
            summary += (
                f"\nThe file is larger than {name} takes in one import ({limit}): split it "
                "between invoices, each part with the header (docs/billing-exports.md)."
            )
        return summary
