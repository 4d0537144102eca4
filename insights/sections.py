"""The dashboard's sections in the order the page shows them: slug -> builder.

A builder takes the window and the moment of the request and returns a figures.Section; it
reads with a fixed number of SQL aggregates whatever the data's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from insights import conversion, promises, workload
from insights.figures import Section
from insights.revenue import predictability_section, revenue_section
from insights.window import Window

Builder = Callable[[Window, dt.datetime], Section]

SECTIONS: dict[str, Builder] = {
    "revenue": revenue_section,
    "predictability": predictability_section,
    "conversion": conversion.build,
    "promises": promises.build,
    "workload": workload.build,
}
