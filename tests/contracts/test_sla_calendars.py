"""Worked SLA examples: what a calendar covers, and the input and calendars that are refused."""

from __future__ import annotations

import datetime as dt

import pytest

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
from tests.contracts.sla_helpers import NEW_YORK, OFFICE, THANKSGIVING_2026, TOKYO, new_york

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
