"""The SLA clock: hand-computed worked examples, then properties checked by Hypothesis.

No database: `contracts.sla` is pure. Worked examples use America/New_York, 08:00-18:00 Monday to
Friday (ten working hours a day) unless they say otherwise. In 2026 New York springs forward on
Sunday 8 March (02:00 EST -> 03:00 EDT, at 07:00 UTC) and falls back on Sunday 1 November
(02:00 EDT -> 01:00 EST, at 06:00 UTC).
"""

from __future__ import annotations

import datetime as dt
import io
import struct
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.sla import (
    MAX_SEARCH_DAYS,
    NoWorkingTime,
    WorkingHours,
    add_covered_minutes,
    add_covered_time,
    covered_time_between,
    is_covered,
    resume_deadline,
)

UTC = dt.UTC
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
THANKSGIVING_2026 = dt.date(2026, 11, 26)
OFFICE = WorkingHours(tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18))
MICROSECOND = dt.timedelta(microseconds=1)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- Worked examples: business hours ---------------------------------------------------------


def test_ticket_opened_mid_morning_is_due_the_same_afternoon() -> None:
    # Wednesday 10:00 + 4h, all inside Wednesday's window.
    assert add_covered_minutes(new_york(2026, 6, 10, 10), 240, OFFICE) == new_york(2026, 6, 10, 14)


def test_ticket_opened_late_afternoon_carries_the_rest_into_the_next_morning() -> None:
    # Wednesday 15:00 + 4h: 3h until 18:00, the fourth hour from Thursday 08:00.
    assert add_covered_minutes(new_york(2026, 6, 10, 15), 240, OFFICE) == new_york(2026, 6, 11, 9)


def test_ticket_opened_friday_at_five_with_two_hours_is_due_monday_at_nine() -> None:
    # One hour on Friday, the weekend does not count, one hour on Monday.
    assert add_covered_minutes(new_york(2026, 6, 12, 17), 120, OFFICE) == new_york(2026, 6, 15, 9)


def test_ticket_opened_on_saturday_starts_counting_at_monday_opening() -> None:
    assert add_covered_minutes(new_york(2026, 6, 13, 11), 60, OFFICE) == new_york(2026, 6, 15, 9)


def test_ticket_opened_before_opening_time_starts_counting_at_opening() -> None:
    assert add_covered_minutes(new_york(2026, 6, 16, 6, 30), 90, OFFICE) == new_york(
        2026, 6, 16, 9, 30
    )


def test_ticket_opened_after_closing_time_starts_counting_next_morning() -> None:
    assert add_covered_minutes(new_york(2026, 6, 16, 19), 30, OFFICE) == new_york(
        2026, 6, 17, 8, 30
    )


def test_ticket_opened_exactly_at_opening_counts_from_that_instant() -> None:
    assert add_covered_minutes(new_york(2026, 6, 15, 8), 60, OFFICE) == new_york(2026, 6, 15, 9)


def test_ticket_opened_exactly_at_closing_counts_from_next_opening() -> None:
    assert add_covered_minutes(new_york(2026, 6, 15, 18), 60, OFFICE) == new_york(2026, 6, 16, 9)


def test_deadline_that_uses_up_the_day_exactly_is_the_closing_instant_not_next_opening() -> None:
    due = add_covered_minutes(new_york(2026, 6, 15, 17), 60, OFFICE)
    assert due == new_york(2026, 6, 15, 18)
    assert is_covered(due, OFFICE)


def test_zero_target_from_closed_hours_is_the_next_opening() -> None:
    # Nothing is owed, but a deadline is never placed inside closed hours.
    assert add_covered_minutes(new_york(2026, 6, 13, 11), 0, OFFICE) == new_york(2026, 6, 15, 8)
    assert add_covered_minutes(new_york(2026, 6, 15, 11), 0, OFFICE) == new_york(2026, 6, 15, 11)


def test_holiday_is_skipped_like_a_weekend_day() -> None:
    office = WorkingHours(
        tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18), holidays=frozenset({THANKSGIVING_2026})
    )
    # Wednesday 17:00 + 2h: one hour on Wednesday, Thursday is Thanksgiving, one hour on Friday.
    opened = new_york(2026, 11, 25, 17)
    assert add_covered_minutes(opened, 120, office) == new_york(2026, 11, 27, 9)
    assert add_covered_minutes(opened, 120, OFFICE) == new_york(2026, 11, 26, 9)


def test_multi_day_target_of_2880_minutes_takes_four_point_eight_working_days() -> None:
    # 48h = Monday..Thursday (40h) + 8h on Friday.
    assert add_covered_minutes(new_york(2026, 6, 15, 8), 2880, OFFICE) == new_york(2026, 6, 19, 16)


def test_calendar_that_works_saturdays_counts_saturday() -> None:
    six_day_office = WorkingHours(
        tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18), weekdays=frozenset(range(6))
    )
    friday_five = new_york(2026, 6, 12, 17)
    assert add_covered_minutes(friday_five, 120, six_day_office) == new_york(2026, 6, 13, 9)


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


# --- Worked examples: zones east and west of UTC ---------------------------------------------


def test_tokyo_instant_on_friday_in_utc_is_saturday_locally_so_waits_for_monday() -> None:
    tokyo_office = WorkingHours(tz=TOKYO, opens=dt.time(9), closes=dt.time(18))
    # Friday 23:30 UTC is Saturday 08:30 JST; counting starts Monday 09:00 JST (00:00 UTC).
    due = add_covered_minutes(utc(2026, 6, 12, 23, 30), 60, tokyo_office)
    assert due == dt.datetime(2026, 6, 15, 10, tzinfo=TOKYO)
    assert due == utc(2026, 6, 15, 1)


def test_london_instant_on_sunday_in_utc_is_monday_morning_locally() -> None:
    london_office = WorkingHours(tz=LONDON, opens=dt.time(9), closes=dt.time(17, 30))
    # Sunday 23:30 UTC is Monday 00:30 BST; due an hour after Monday's 09:00 BST opening.
    due = add_covered_minutes(utc(2026, 6, 14, 23, 30), 60, london_office)
    assert due == dt.datetime(2026, 6, 15, 10, tzinfo=LONDON)
    assert due == utc(2026, 6, 15, 9)


def test_new_york_evening_desk_counts_friday_evening_although_utc_already_says_saturday() -> None:
    evening_desk = WorkingHours(tz=NEW_YORK, opens=dt.time(18), closes=dt.time(23))
    # Friday 22:00 EDT is Saturday 02:00 UTC; the desk is still open for another hour.
    opened = utc(2026, 6, 13, 2)
    assert is_covered(opened, evening_desk)
    assert add_covered_minutes(opened, 30, evening_desk) == new_york(2026, 6, 12, 22, 30)


# --- Worked examples: pausing while waiting on the client ------------------------------------


def test_resumed_clock_gets_the_three_hours_that_were_left_at_the_pause() -> None:
    # Due Tuesday 13:00, paused Tuesday 10:00 (3h left), resumed Thursday 16:00:
    # 2h on Thursday until 18:00, 1h on Friday from 08:00.
    due = resume_deadline(
        due_at=new_york(2026, 6, 16, 13),
        paused_at=new_york(2026, 6, 16, 10),
        resumed_at=new_york(2026, 6, 18, 16),
        hours=OFFICE,
    )
    assert due == new_york(2026, 6, 19, 9)


def test_pause_and_resume_inside_closed_hours_leaves_the_deadline_where_it_was() -> None:
    # Due Monday 10:00; paused Friday 19:00 and resumed Saturday noon: no working time passed.
    due = resume_deadline(
        due_at=new_york(2026, 6, 15, 10),
        paused_at=new_york(2026, 6, 12, 19),
        resumed_at=new_york(2026, 6, 13, 12),
        hours=OFFICE,
    )
    assert due == new_york(2026, 6, 15, 10)


def test_pausing_after_the_deadline_passed_leaves_the_ticket_breached() -> None:
    missed = new_york(2026, 6, 16, 13)
    due = resume_deadline(
        due_at=missed,
        paused_at=new_york(2026, 6, 16, 14),
        resumed_at=new_york(2026, 6, 18, 16),
        hours=OFFICE,
    )
    assert due == missed


def test_pausing_exactly_at_the_deadline_leaves_no_time_to_resume_with() -> None:
    at_deadline = new_york(2026, 6, 16, 13)
    due = resume_deadline(
        due_at=at_deadline,
        paused_at=at_deadline,
        resumed_at=new_york(2026, 6, 18, 16),
        hours=OFFICE,
    )
    assert due == at_deadline


def test_resume_recorded_before_the_pause_resumes_from_the_pause() -> None:
    # Clock skew between workers must not hand the ticket time it never waited.
    due = resume_deadline(
        due_at=new_york(2026, 6, 16, 13),
        paused_at=new_york(2026, 6, 16, 10),
        resumed_at=new_york(2026, 6, 16, 9),
        hours=OFFICE,
    )
    assert due == new_york(2026, 6, 16, 13)


def test_24x7_resume_shifts_the_deadline_by_the_length_of_the_pause() -> None:
    due = resume_deadline(
        due_at=utc(2026, 6, 16, 13),
        paused_at=utc(2026, 6, 16, 10),
        resumed_at=utc(2026, 6, 18, 16),
        hours=None,
    )
    assert due == utc(2026, 6, 18, 19)


# --- Worked examples: coverage queries -------------------------------------------------------


def test_opening_and_closing_instants_are_covered_but_not_a_moment_after_closing() -> None:
    assert is_covered(new_york(2026, 6, 15, 8), OFFICE)
    assert is_covered(new_york(2026, 6, 15, 18), OFFICE)
    assert not is_covered(new_york(2026, 6, 15, 18) + dt.timedelta(microseconds=1), OFFICE)
    assert not is_covered(new_york(2026, 6, 15, 7, 59), OFFICE)


def test_saturday_and_holidays_are_not_covered_but_everything_is_under_24x7() -> None:
    office = WorkingHours(
        tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18), holidays=frozenset({THANKSGIVING_2026})
    )
    assert not is_covered(new_york(2026, 6, 13, 12), office)
    assert not is_covered(new_york(2026, 11, 26, 12), office)
    assert is_covered(new_york(2026, 11, 26, 12), None)


def test_covered_time_over_a_full_week_is_fifty_hours() -> None:
    week = covered_time_between(new_york(2026, 6, 13), new_york(2026, 6, 20), OFFICE)
    assert week == dt.timedelta(hours=50)


def test_covered_time_is_zero_when_end_is_not_after_start() -> None:
    noon = new_york(2026, 6, 15, 12)
    assert covered_time_between(noon, noon, OFFICE) == dt.timedelta(0)
    assert covered_time_between(noon, noon - dt.timedelta(hours=1), None) == dt.timedelta(0)


# --- Worked examples: bad input and broken calendars -----------------------------------------

NAIVE = dt.datetime(2026, 6, 15, 12)
AWARE = new_york(2026, 6, 15, 12)


@pytest.mark.parametrize("hours", [OFFICE, None], ids=["business-hours", "24x7"])
def test_naive_datetimes_are_refused_by_every_function(hours: WorkingHours | None) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_covered_minutes(NAIVE, 60, hours)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_covered_time(NAIVE, dt.timedelta(hours=1), hours)
    with pytest.raises(ValueError, match="timezone-aware"):
        covered_time_between(NAIVE, AWARE, hours)
    with pytest.raises(ValueError, match="timezone-aware"):
        covered_time_between(AWARE, NAIVE, hours)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_covered(NAIVE, hours)
    for naive_field in ("due_at", "paused_at", "resumed_at"):
        moments = {"due_at": AWARE, "paused_at": AWARE, "resumed_at": AWARE, naive_field: NAIVE}
        with pytest.raises(ValueError, match="timezone-aware"):
            resume_deadline(**moments, hours=hours)


@pytest.mark.parametrize("hours", [OFFICE, None], ids=["business-hours", "24x7"])
def test_negative_targets_are_refused(hours: WorkingHours | None) -> None:
    with pytest.raises(ValueError, match="negative"):
        add_covered_minutes(AWARE, -1, hours)
    with pytest.raises(ValueError, match="negative"):
        add_covered_time(AWARE, -dt.timedelta(microseconds=1), hours)


def test_calendar_whose_working_days_are_all_holidays_raises_instead_of_looping() -> None:
    # Open only on Saturdays, and every Saturday for four years is a holiday.
    first_saturday = dt.date(2026, 6, 13)
    every_saturday = frozenset(first_saturday + dt.timedelta(weeks=n) for n in range(4 * 53))
    closed_for_years = WorkingHours(
        tz=NEW_YORK,
        opens=dt.time(9),
        closes=dt.time(17),
        weekdays=frozenset({5}),
        holidays=every_saturday,
    )
    assert len(every_saturday) * 7 > MAX_SEARCH_DAYS
    with pytest.raises(NoWorkingTime):
        add_covered_minutes(new_york(2026, 6, 12, 12), 60, closed_for_years)


def test_sparse_calendar_with_long_target_is_not_mistaken_for_a_broken_one() -> None:
    # One hour a week: 20000 minutes is 333 whole Saturdays plus 20 minutes of the 334th, about
    # six and a half years, far beyond MAX_SEARCH_DAYS but with working time every week.
    saturday_hour = WorkingHours(
        tz=TOKYO, opens=dt.time(9), closes=dt.time(10), weekdays=frozenset({5})
    )
    due = add_covered_minutes(dt.datetime(2026, 6, 15, 12, tzinfo=TOKYO), 20000, saturday_hour)
    last_saturday = dt.date(2026, 6, 20) + dt.timedelta(weeks=333)
    assert due == dt.datetime.combine(last_saturday, dt.time(9, 20), tzinfo=TOKYO)


def test_closing_time_not_after_opening_time_is_refused() -> None:
    with pytest.raises(ValueError, match="closing time"):
        WorkingHours(tz=NEW_YORK, opens=dt.time(18), closes=dt.time(8))
    with pytest.raises(ValueError, match="closing time"):
        WorkingHours(tz=NEW_YORK, opens=dt.time(8), closes=dt.time(8))


@pytest.mark.parametrize("weekdays", [frozenset(), frozenset({7})], ids=["none", "out-of-range"])
def test_weekdays_must_be_a_non_empty_subset_of_the_week(weekdays: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="weekdays"):
        WorkingHours(tz=NEW_YORK, opens=dt.time(8), closes=dt.time(18), weekdays=weekdays)


# --- Properties ------------------------------------------------------------------------------

# Zones chosen for their traps: DST north and south of the equator, half-hour and 45-minute
# offsets, a 30-minute DST shift (Lord Howe), transitions at local midnight (São Paulo until 2019,
# Havana, Beirut), Morocco's Ramadan switches, Samoa, which skipped 30 December 2011, and Casey,
# whose clocks went back across midnight in 2010.
ZONE_NAMES = (
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Havana",
    "Europe/London",
    "Europe/Helsinki",
    "Africa/Casablanca",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Antarctica/Casey",
    "UTC",
)
ZONES = tuple(ZoneInfo(name) for name in ZONE_NAMES)
FIRST_YEAR, LAST_YEAR = 2005, 2035


def _utc_offset_changes(zone: ZoneInfo) -> list[dt.datetime]:
    """Return the UTC instants in FIRST_YEAR..LAST_YEAR at which `zone`'s offset changes."""
    changes = []
    step = dt.timedelta(days=7)
    cursor = utc(FIRST_YEAR, 1, 1)
    while cursor.year <= LAST_YEAR:
        after = cursor + step
        if cursor.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
            low, high = cursor, after
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) // 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            changes.append(high)
        cursor = after
    return changes


# Starting near a clock change is where bugs live, so half the start instants are drawn there.
OFFSET_CHANGES = {zone: _utc_offset_changes(zone) for zone in ZONES}

zones = st.sampled_from(ZONES)
target_minutes = st.integers(min_value=1, max_value=20_000)
# Most clock changes in these zones happen between 00:00 and 04:00 local, so opening and closing
# times are drawn from there on quarter hours half of the time.
wall_minutes_near_clock_changes = st.sampled_from(range(0, 4 * 60 + 1, 15))
# At least an hour a day, so that 20000 minutes on one working day a week stays a few years.
MIN_WINDOW_MINUTES = 60


@st.composite
def working_hours(draw: st.DrawFn, zone: ZoneInfo, near: dt.date) -> WorkingHours:
    last_opening = 24 * 60 - 1 - MIN_WINDOW_MINUTES
    opens = draw(wall_minutes_near_clock_changes | st.integers(min_value=0, max_value=last_opening))
    earliest_close = opens + MIN_WINDOW_MINUTES
    closes = draw(
        st.integers(min_value=earliest_close, max_value=24 * 60 - 1)
        | st.sampled_from(range(earliest_close, 24 * 60, 15))
    )
    weekdays = draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1))
    holiday_offsets = draw(st.frozensets(st.integers(min_value=-3, max_value=90), max_size=25))
    return WorkingHours(
        tz=zone,
        opens=dt.time(*divmod(opens, 60)),
        closes=dt.time(*divmod(closes, 60)),
        weekdays=weekdays,
        holidays=frozenset(near + dt.timedelta(days=n) for n in holiday_offsets),
    )


@st.composite
def moments(draw: st.DrawFn, zone: ZoneInfo) -> dt.datetime:
    """Return an aware datetime, shown in a randomly chosen zone, often near `zone`'s changes."""
    shown_in = draw(st.sampled_from((zone, UTC, *ZONES[:3])))
    near_a_change = draw(st.booleans())
    if near_a_change and OFFSET_CHANGES[zone]:
        change = draw(st.sampled_from(OFFSET_CHANGES[zone]))
        seconds = draw(st.integers(min_value=-4 * 86_400, max_value=4 * 86_400))
        return (change + dt.timedelta(seconds=seconds)).astimezone(shown_in)
    return draw(
        st.datetimes(
            min_value=dt.datetime(FIRST_YEAR, 1, 1),
            max_value=dt.datetime(LAST_YEAR, 12, 31),
            timezones=st.just(shown_in),
        )
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dt.datetime, WorkingHours]:
    """Return a start instant and a business-hours calendar in the same zone."""
    zone = draw(zones)
    start = draw(moments(zone))
    hours = draw(working_hours(zone, near=start.astimezone(zone).date()))
    return start, hours


PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def real_time_after(moment: dt.datetime, *, minutes: int) -> dt.datetime:
    # Not `moment + timedelta`: on a ZoneInfo datetime that is wall-clock arithmetic, which drops
    # `fold` and so can even go backwards from the second pass through a repeated hour.
    return moment.astimezone(UTC) + dt.timedelta(minutes=minutes)


def _reads_as_open(moment: dt.datetime, hours: WorkingHours) -> bool:
    """Check a moment against the calendar by its wall clock, independently of `is_covered`."""
    local = moment.astimezone(hours.tz)
    if local.fold == 1:
        # The second pass through a repeated hour reads earlier than the clock already showed
        # (before opening time, even the day before), so the wall clock proves nothing there.
        return True
    return hours.is_working_day(local.date()) and hours.opens <= local.time() < hours.closes


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minutes=target_minutes)
def test_deadline_is_never_inside_closed_hours(
    scenario: tuple[dt.datetime, WorkingHours], minutes: int
) -> None:
    start, hours = scenario
    due = add_covered_minutes(start, minutes, hours)
    assert is_covered(due, hours)
    # The deadline is the end of a stretch of working time: just before it, the office is open.
    assert is_covered(due - MICROSECOND, hours)
    assert _reads_as_open(due - MICROSECOND, hours)


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minutes=target_minutes)
def test_covered_time_up_to_the_deadline_is_exactly_the_target(
    scenario: tuple[dt.datetime, WorkingHours], minutes: int
) -> None:
    start, hours = scenario
    due = add_covered_minutes(start, minutes, hours)
    assert covered_time_between(start, due, hours) == dt.timedelta(minutes=minutes)


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minutes=target_minutes, more=st.integers(min_value=1, max_value=5000))
def test_a_larger_target_never_gives_an_earlier_deadline(
    scenario: tuple[dt.datetime, WorkingHours], minutes: int, more: int
) -> None:
    start, hours = scenario
    assert add_covered_minutes(start, minutes, hours) < add_covered_minutes(
        start, minutes + more, hours
    )


@PROPERTY_SETTINGS
@given(data=st.data(), minutes=st.integers(min_value=0, max_value=20_000))
def test_24x7_deadline_is_plain_addition_in_utc(data: st.DataObject, minutes: int) -> None:
    start = data.draw(moments(data.draw(zones)))
    due = add_covered_minutes(start, minutes, None)
    assert due == start.astimezone(UTC) + dt.timedelta(minutes=minutes)
    assert due.utcoffset() == dt.timedelta(0)


@PROPERTY_SETTINGS
@given(scenario=scenarios(), minutes=target_minutes)
def test_business_hours_deadline_is_never_before_the_24x7_deadline(
    scenario: tuple[dt.datetime, WorkingHours], minutes: int
) -> None:
    start, hours = scenario
    assert add_covered_minutes(start, minutes, hours) >= add_covered_minutes(start, minutes, None)


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    minutes=st.integers(min_value=0, max_value=20_000),
    pause_after=st.integers(min_value=0, max_value=30 * 24 * 60),
    paused_for=st.integers(min_value=0, max_value=30 * 24 * 60),
    business_hours=st.booleans(),
)
def test_pausing_never_shortens_the_time_left(
    scenario: tuple[dt.datetime, WorkingHours],
    minutes: int,
    pause_after: int,
    paused_for: int,
    business_hours: bool,
) -> None:
    start, calendar = scenario
    hours = calendar if business_hours else None
    due = add_covered_minutes(start, minutes, hours)
    paused_at = real_time_after(start, minutes=pause_after)
    resumed_at = real_time_after(paused_at, minutes=paused_for)

    resumed_due = resume_deadline(
        due_at=due, paused_at=paused_at, resumed_at=resumed_at, hours=hours
    )

    assert resumed_due >= due
    if due > paused_at:
        left_at_pause = covered_time_between(paused_at, due, hours)
        assert covered_time_between(resumed_at, resumed_due, hours) == left_at_pause
    else:
        assert resumed_due == due


@PROPERTY_SETTINGS
@given(
    scenario=scenarios(),
    first=st.integers(min_value=0, max_value=20_000),
    second=st.integers(min_value=0, max_value=20_000),
)
def test_covered_time_adds_up_over_consecutive_intervals(
    scenario: tuple[dt.datetime, WorkingHours], first: int, second: int
) -> None:
    start, hours = scenario
    middle = real_time_after(start, minutes=first)
    end = real_time_after(middle, minutes=second)
    whole = covered_time_between(start, end, hours)
    assert whole == covered_time_between(start, middle, hours) + covered_time_between(
        middle, end, hours
    )
    assert whole <= end - start
