"""Properties of the SLA clock checked by Hypothesis, in zones chosen for their clock changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.sla import (
    WorkingHours,
    add_covered_minutes,
    covered_time_between,
    is_covered,
    resume_deadline,
)
from tests.contracts.sla_helpers import MICROSECOND, UTC, utc

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
