"""Figures as pages show them: tables, the charts drawn from them, CSV downloads.

Every chart stands beside a table of the same numbers (the accessible form, and the CSV), so a
page builds its Table first and derives the chart from its columns. Pure: no ORM. Here, at the
bottom layer with money.py, because the insights' reports and the workspace's client page
(tickets) both draw them; templates/_figure.html shows one, static/js/charts.js draws its chart.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from clients.money import money


@dataclass(frozen=True)
class Link:
    """A table cell that opens another page (the tickets behind a figure)."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Money:
    """An amount in a table cell: "$1,234.50" on the page, 1234.50 in the CSV."""

    amount: Decimal

    def __str__(self) -> str:
        return money(self.amount)


@dataclass(frozen=True)
class Percent:
    """A share in a table cell: "61.5%" on the page, 61.5 in the CSV; None shows as a dash."""

    value: Decimal | None

    def __str__(self) -> str:
        return "\N{EN DASH}" if self.value is None else f"{self.value:.1f}%"


Cell = str | int | Decimal | Link | Money | Percent | None


def cell_html(cell: Cell) -> str:
    """A cell as the page shows it, escaped: a Link as an anchor."""
    if isinstance(cell, Link):
        return f'<a href="{escape(cell.url)}">{escape(cell.text)}</a>'
    return "" if cell is None else escape(str(cell))


def csv_value(cell: Cell) -> str:
    """A cell as a spreadsheet reads it: bare numbers, no currency signs or thousands commas."""
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return str(cell.amount)
    if isinstance(cell, Percent):
        return "" if cell.value is None else f"{cell.value:.1f}"
    return str(cell)


def chart_value(cell: Cell) -> float | None:
    if isinstance(cell, Money):
        return float(cell.amount)
    if isinstance(cell, Percent):
        return None if cell.value is None else float(cell.value)
    if isinstance(cell, int | Decimal):
        return float(cell)
    return None


@dataclass(frozen=True)
class Series:
    """One line or set of bars: the table column it draws."""

    column: int
    kind: str = ""  # "line" over a bar chart; "" for the chart's own kind
    stack: str = ""  # bars with the same stack sit on each other
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    """A Chart.js chart of some columns of a table, labelled by its first column."""

    kind: str  # "bar" or "line"
    series: tuple[Series, ...]
    y_label: str = ""
    money: bool = False  # the y axis in dollars
    percent: bool = False  # the y axis from 0 to 100%


@dataclass
class Table:
    """Rows of figures with their column headings, as the page, the chart and the CSV show them."""

    slug: str  # names the CSV download: <section>-<slug>.csv
    caption: str
    columns: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    chart: Chart | None = None
    empty: str = "Nothing to show for this period."

    def html_rows(self) -> SafeString:
        """The body's rows, the first cell of each a row heading. Built here rather than by the
        template's loops and a tag per cell: the dashboard shows some 700 cells, and the
        template engine took a fifth of the page's time over them."""
        return mark_safe(  # noqa: S308 -- every value goes through escape() in cell_html
            "".join(
                '<tr><th scope="row" class="fw-normal">'
                + cell_html(row[0])
                + "</th>"
                + "".join(f'<td class="text-end">{cell_html(c)}</td>' for c in row[1:])
                + "</tr>"
                for row in self.rows
            )
        )

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows([csv_value(cell) for cell in row] for row in self.rows)
        return out.getvalue()

    def chart_config(self) -> str:
        """The Chart.js configuration as JSON, for the canvas's data-chart attribute (our
        static/js/charts.js draws it: no inline script)."""
        if self.chart is None:
            return ""
        datasets = []
        # With stacked bars, every other series (a line) needs a stack of its own, or Chart.js
        # stacks it on the bars.
        stacked = any(s.stack for s in self.chart.series)
        for s in self.chart.series:
            dataset: dict[str, object] = {
                "label": str(self.columns[s.column]),
                "data": [chart_value(row[s.column]) for row in self.rows],
            }
            if s.kind:
                dataset["type"] = s.kind
            if s.stack or stacked:
                dataset["stack"] = s.stack or f"own-{s.column}"
            if s.dashed:
                dataset["borderDash"] = [6, 4]
            datasets.append(dataset)
        return json.dumps(
            {
                "type": self.chart.kind,
                "data": {"labels": [str(row[0]) for row in self.rows], "datasets": datasets},
                "yLabel": self.chart.y_label,
                "money": self.chart.money,
                "percent": self.chart.percent,
            }
        )


@dataclass
class Section:
    """One part of a report page: a heading, a lead sentence, headline figures, its tables."""

    slug: str
    title: str
    lead: str = ""
    headline: list[tuple[str, Cell]] = field(default_factory=list)  # (label, figure)
    tables: list[Table] = field(default_factory=list)

    def table(self, slug: str) -> Table | None:
        return next((t for t in self.tables if t.slug == slug), None)
