"""What the SLA clock tests share (tests/contracts/test_sla_*.py): zones, the office, and ways to
write instants.

`contracts.sla` is pure: these tests need no database. Worked examples use America/New_York,
08:00-18:00 Monday to Friday (ten working hours a day) unless they say otherwise. In 2026 New York
springs forward on Sunday 8 March (02:00 EST -> 03:00 EDT, at 07:00 UTC) and falls back on Sunday
1 November (02:00 EDT -> 01:00 EST, at 06:00 UTC).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from contracts.sla import WorkingHours

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
THANKSGIVING_2026 = dt.date(2026, 11, 26)
OFFICE = WorkingHours(tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18))
MICROSECOND = dt.timedelta(microseconds=1)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)
