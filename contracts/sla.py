"""The SLA clock: when a response or resolution is due, counting only covered time.

Pure functions, no ORM. Covered time is either all time (24x7 coverage, `hours=None`) or the
practice's working hours: working weekdays, opening to closing time, not on holidays, in the
calendar's own time zone.

Time-zone trap: adding a timedelta to an aware datetime whose tzinfo is a ZoneInfo does wall-clock
arithmetic (08:00 + 24h across a DST change is 08:00 the next day, 23 or 25 real hours later).
All arithmetic here is therefore done in UTC; local time is used only to find the opening and
closing instants of each day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
# A calendar with no working day in this many days is broken (say, every working day a holiday);
# stop instead of looping for ever.
MAX_SEARCH_DAYS = 3 * 366


class NoWorkingTime(ValueError):
    """The calendar has no working time within MAX_SEARCH_DAYS of the start."""


@dataclass(frozen=True)
class WorkingHours:
    tz: ZoneInfo
    opens: dt.time
    closes: dt.time
    weekdays: frozenset[int] = frozenset(range(5))  # date.weekday(): Monday is 0
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.closes <= self.opens:
            raise ValueError("closing time must be after opening time")
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise ValueError("weekdays must be a non-empty subset of 0..6")

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """Return the UTC instants at which `day` opens and closes (local wall-clock times)."""
        # combine() with a ZoneInfo picks fold=0 for an ambiguous time and shifts a time that
        # does not exist (inside a spring-forward gap) forwards; both are what a person expects.
        opens = dt.datetime.combine(day, self.opens, tzinfo=self.tz).astimezone(UTC)
        closes = dt.datetime.combine(day, self.closes, tzinfo=self.tz).astimezone(UTC)
        return opens, closes

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()


def _require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the SLA clock needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def add_covered_time(start: dt.datetime, duration: dt.timedelta, hours: WorkingHours | None) -> dt.datetime:
    """Return the moment `duration` of covered time after `start` has elapsed."""
    cursor = _require_aware(start)
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative")
    if hours is None:
        return cursor + duration
    remaining = duration
    day = hours.local_date(cursor)
    # Start a day early: in a zone west of UTC an instant can belong to the previous local day's
    # window, and the loop below skips windows that already closed.
    day -= dt.timedelta(days=1)
    for _ in range(MAX_SEARCH_DAYS):
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            segment_start = max(cursor, opens)
            if segment_start <= closes:
                available = closes - segment_start
                if remaining <= available:
                    return segment_start + remaining
                remaining -= available
                cursor = closes
        day += dt.timedelta(days=1)
    raise NoWorkingTime(f"no working time within {MAX_SEARCH_DAYS} days of {start.isoformat()}")


def add_covered_minutes(start: dt.datetime, minutes: int, hours: WorkingHours | None) -> dt.datetime:
    """Return the deadline `minutes` of covered time after `start`."""
    return add_covered_time(start, dt.timedelta(minutes=minutes), hours)


def covered_time_between(start: dt.datetime, end: dt.datetime, hours: WorkingHours | None) -> dt.timedelta:
    """Return how much covered time lies between `start` and `end` (zero if end <= start)."""
    begin, finish = _require_aware(start), _require_aware(end)
    if finish <= begin:
        return dt.timedelta(0)
    if hours is None:
        return finish - begin
    total = dt.timedelta(0)
    day = hours.local_date(begin) - dt.timedelta(days=1)
    last_day = hours.local_date(finish) + dt.timedelta(days=1)
    while day <= last_day:
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > dt.timedelta(0):
                total += overlap
        day += dt.timedelta(days=1)
    return total


def resume_deadline(
    *, due_at: dt.datetime, paused_at: dt.datetime, resumed_at: dt.datetime, hours: WorkingHours | None
) -> dt.datetime:
    """Return the deadline after a pause: resumed with exactly the covered time that was left.

    A deadline already missed when the clock paused stays missed: waiting on the client
    afterwards does not undo a breach.
    """
    if _require_aware(due_at) <= _require_aware(paused_at):
        return due_at
    left = covered_time_between(paused_at, due_at, hours)
    return add_covered_time(max(resumed_at, paused_at), left, hours)


def is_covered(moment: dt.datetime, hours: WorkingHours | None) -> bool:
    """Return whether `moment` lies within covered time (closing instant included)."""
    if hours is None:
        return True
    instant = _require_aware(moment)
    day = hours.local_date(instant)
    for candidate in (day - dt.timedelta(days=1), day):
        if hours.is_working_day(candidate):
            opens, closes = hours.window(candidate)
            if opens <= instant <= closes:
                return True
    return False
