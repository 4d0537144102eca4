"""The dashboard's sections in the order the page shows them: slug -> builder.

A builder takes the window and the moment of the request and returns its sections (two that
read the same data come from one builder, which reads it once); it reads with a fixed number of
SQL aggregates whatever the data's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from clients.figures import Section
from insights import conversion, promises, workload
from insights.revenue import revenue_sections
from insights.window import Window

Builder = Callable[[Window, dt.datetime], Sequence[Section]]


def alone(build: Callable[[Window, dt.datetime], Section]) -> Builder:
    return lambda window, now: (build(window, now),)


SECTIONS: dict[str, Builder] = {
    "revenue": revenue_sections,
    "predictability": revenue_sections,
    "conversion": alone(conversion.build),
    "promises": alone(promises.build),
    "workload": alone(workload.build),
}


def build_all(window: Window, now: dt.datetime) -> list[Section]:
    """Every section, each builder called once."""
    built: list[Section] = []
    for build in dict.fromkeys(SECTIONS.values()):
        built.extend(build(window, now))
    return built


def build_one(slug: str, window: Window, now: dt.datetime) -> Section | None:
    build = SECTIONS.get(slug)
    if build is None:
        return None
    return next((s for s in build(window, now) if s.slug == slug), None)
