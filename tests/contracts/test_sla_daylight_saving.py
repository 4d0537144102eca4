"""Worked SLA examples across daylight saving time and other jumps of the local clock."""

from __future__ import annotations

import datetime as dt
import io
import struct
from zoneinfo import ZoneInfo

from contracts.sla import WorkingHours, add_covered_minutes, covered_time_between, is_covered
from tests.contracts.sla_helpers import MICROSECOND, NEW_YORK, OFFICE, new_york, utc

# --- Worked examples: daylight saving time ---------------------------------------------------


def test_business_hours_deadline_across_spring_forward_keeps_the_local_opening_time() -> None:
    # Friday 17:00 EST (22:00 UTC) + 2h -> Monday 09:00 EDT, which is 13:00 UTC, not 14:00.
    due = add_covered_minutes(new_york(2026, 3, 6, 17), 120, OFFICE)
    assert due == utc(2026, 3, 9, 13)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 3, 9, 9)


def test_business_hours_deadline_across_fall_back_keeps_the_local_opening_time() -> None:
    # Friday 17:00 EDT (21:00 UTC) + 2h -> Monday 09:00 EST, which is 14:00 UTC, not 13:00.
    due = add_covered_minutes(new_york(2026, 10, 30, 17), 120, OFFICE)
    assert due == utc(2026, 11, 2, 14)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 11, 2, 9)


def test_24x7_day_across_spring_forward_is_25_wall_clock_hours() -> None:
    # Saturday 12:00 EST = 17:00 UTC; 24 real hours later is 17:00 UTC = Sunday 13:00 EDT.
    opened = new_york(2026, 3, 7, 12)
    due = add_covered_minutes(opened, 1440, None)
    assert due == utc(2026, 3, 8, 17)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 3, 8, 13)
    # The trap the engine avoids: aware ZoneInfo arithmetic is wall-clock arithmetic.
    assert opened + dt.timedelta(minutes=1440) != due


def test_24x7_day_across_fall_back_is_23_wall_clock_hours() -> None:
    # Saturday 12:00 EDT = 16:00 UTC; 24 real hours later is 16:00 UTC = Sunday 11:00 EST.
    opened = new_york(2026, 10, 31, 12)
    due = add_covered_minutes(opened, 1440, None)
    assert due == utc(2026, 11, 1, 16)
    assert due.astimezone(NEW_YORK).replace(tzinfo=None) == dt.datetime(2026, 11, 1, 11)
    assert opened + dt.timedelta(minutes=1440) != due


def test_window_spanning_spring_forward_is_an_hour_shorter_in_real_time() -> None:
    night_desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(1), closes=dt.time(5), weekdays=frozenset({6})
    )
    # Sunday 01:00 EST (06:00 UTC) to 05:00 EDT (09:00 UTC): three real hours.
    sunday = dt.date(2026, 3, 8)
    assert night_desk.window(sunday) == (utc(2026, 3, 8, 6), utc(2026, 3, 8, 9))
    assert covered_time_between(
        new_york(2026, 3, 7), new_york(2026, 3, 9), night_desk
    ) == dt.timedelta(hours=3)


def test_window_spanning_fall_back_is_an_hour_longer_in_real_time() -> None:
    night_desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(0), closes=dt.time(4), weekdays=frozenset({6})
    )
    # Sunday 00:00 EDT (04:00 UTC) to 04:00 EST (09:00 UTC): five real hours.
    sunday = dt.date(2026, 11, 1)
    assert night_desk.window(sunday) == (utc(2026, 11, 1, 4), utc(2026, 11, 1, 9))
    assert add_covered_minutes(new_york(2026, 10, 31, 12), 300, night_desk) == utc(2026, 11, 1, 9)


def test_opening_time_skipped_by_spring_forward_opens_when_the_clocks_jump() -> None:
    # 02:30 never shows on the clock that night: it reads 01:59:59 EST, then 03:00 EDT. The desk
    # is open from that jump (07:00 UTC), not from 03:30 EDT as naive fold=0 arithmetic says.
    desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(2, 30), closes=dt.time(6), weekdays=frozenset({6})
    )
    assert desk.window(dt.date(2026, 3, 8)) == (utc(2026, 3, 8, 7), utc(2026, 3, 8, 10))
    assert add_covered_minutes(new_york(2026, 3, 8, 1), 1, desk) == utc(2026, 3, 8, 7, 1)


def test_closing_time_skipped_by_spring_forward_closes_when_the_clocks_jump() -> None:
    desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(1), closes=dt.time(2, 30), weekdays=frozenset({6})
    )
    # 01:00 EST (06:00 UTC) until the jump at 07:00 UTC: one real hour.
    assert desk.window(dt.date(2026, 3, 8)) == (utc(2026, 3, 8, 6), utc(2026, 3, 8, 7))


def test_window_entirely_inside_the_spring_forward_gap_has_no_working_time() -> None:
    desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(2, 10), closes=dt.time(2, 50), weekdays=frozenset({6})
    )
    sunday_start, sunday_end = new_york(2026, 3, 8), new_york(2026, 3, 9)
    assert covered_time_between(sunday_start, sunday_end, desk) == dt.timedelta(0)
    assert not is_covered(utc(2026, 3, 8, 7), desk)
    # Even a zero target waits for real working time, and the next Sunday has its 40 minutes.
    assert add_covered_minutes(sunday_start, 0, desk) == new_york(2026, 3, 15, 2, 10)
    assert add_covered_minutes(sunday_start, 40, desk) == new_york(2026, 3, 15, 2, 50)


def test_opening_time_repeated_by_fall_back_opens_at_its_first_occurrence() -> None:
    desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(1, 30), closes=dt.time(3), weekdays=frozenset({6})
    )
    # 01:30 EDT (05:30 UTC) to 03:00 EST (08:00 UTC): the repeated hour is worked once, in full.
    assert desk.window(dt.date(2026, 11, 1)) == (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8))
    assert is_covered(new_york(2026, 11, 1, 1, 15).replace(fold=1), desk)  # 01:15 EST


def test_closing_time_repeated_by_fall_back_closes_at_its_first_occurrence() -> None:
    desk = WorkingHours(
        tz=NEW_YORK, opens=dt.time(0), closes=dt.time(1, 30), weekdays=frozenset({6})
    )
    assert desk.window(dt.date(2026, 11, 1)) == (utc(2026, 11, 1, 4), utc(2026, 11, 1, 5, 30))
    assert not is_covered(new_york(2026, 11, 1, 1, 15).replace(fold=1), desk)


def test_repeated_hour_that_crosses_midnight_belongs_to_the_day_that_opened_first() -> None:
    # On 2010-03-05 Antarctica/Casey went from 02:00 (+11) back to 23:00 on the 4th (+08). A desk
    # open 00:30-06:00 daily opened at 00:30 (+11) on the 5th; two hours later the clock reads
    # 23:30 on the 4th, yet the 5th's window is still open.
    casey = ZoneInfo("Antarctica/Casey")
    desk = WorkingHours(
        tz=casey, opens=dt.time(0, 30), closes=dt.time(6), weekdays=frozenset(range(7))
    )
    opened = dt.datetime(2010, 3, 5, 0, 30, tzinfo=casey)
    due = add_covered_minutes(opened, 120, desk)
    assert due == utc(2010, 3, 4, 15, 30)
    assert due.astimezone(casey).date() == dt.date(2010, 3, 4)
    assert is_covered(due, desk)
    assert covered_time_between(opened, due, desk) == dt.timedelta(hours=2)


def test_closing_time_skipped_by_a_jump_over_midnight_is_covered_though_it_reads_next_day() -> None:
    # No zone in the tz database has done this since 1970, so build one: at 23:30 UTC on
    # 2030-01-01 the clock jumps from 23:30 (+00) to 00:30 on the 2nd (+01). A desk closing at
    # 23:45 closes at the jump, when the clock already shows the 2nd.
    jump = utc(2030, 1, 1, 23, 30)
    tzif_v1 = b"".join(
        (
            b"TZif" + bytes(16),
            struct.pack(
                ">6l", 0, 0, 0, 1, 2, 4
            ),  # counts: UT/std flags, leaps, jumps, types, chars
            struct.pack(">lB", int(jump.timestamp()), 1),  # the jump, to type 1
            struct.pack(">lbb", 0, 0, 0) + struct.pack(">lbb", 3600, 1, 2),  # types 0 and 1
            b"A\x00B\x00",
        )
    )
    zone = ZoneInfo.from_file(io.BytesIO(tzif_v1), key="Test/Jump_Over_Midnight")
    desk = WorkingHours(
        tz=zone, opens=dt.time(20), closes=dt.time(23, 45), weekdays=frozenset(range(7))
    )
    assert desk.window(dt.date(2030, 1, 1)) == (utc(2030, 1, 1, 20), jump)
    assert jump.astimezone(zone).replace(tzinfo=None) == dt.datetime(2030, 1, 2, 0, 30)
    assert add_covered_minutes(utc(2030, 1, 1, 22, 30), 60, desk) == jump
    assert is_covered(jump, desk)
    assert not is_covered(jump + MICROSECOND, desk)
