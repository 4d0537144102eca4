"""Worked SLA examples: deadlines in business hours, in zones east and west of UTC, after pauses."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from contracts.sla import WorkingHours, add_covered_minutes, is_covered, resume_deadline
from tests.contracts.sla_helpers import NEW_YORK, OFFICE, THANKSGIVING_2026, TOKYO, new_york, utc

LONDON = ZoneInfo("Europe/London")


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
