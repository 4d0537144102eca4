"""The SLA clock: when a response or resolution is due, counting only covered time.

Pure functions, no ORM. Covered time is either all time (24x7 coverage, `hours=None`) or the
practice's working hours: working weekdays, opening to closing time, not on holidays, in the
calendar's own time zone.

Time-zone trap: adding a timedelta to an aware datetime whose tzinfo is a ZoneInfo does wall-clock
arithmetic (08:00 + 24h across a DST change is 08:00 the next day, 23 or 25 real hours later).
All arithmetic here is therefore done in UTC; local time is used only to find the opening and
closing instants of each day. Every function returns UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC
# A calendar with no working time on this many days in a row is broken (say, every working day a
# holiday); stop instead of looping for ever. Counted in a row, not in total, so that a long target
# on a sparse calendar (one hour a week, 20000 minutes) is still served.
MAX_SEARCH_DAYS = 3 * 366
_ONE_DAY = dt.timedelta(days=1)
_MICROSECOND = dt.timedelta(microseconds=1)


class NoWorkingTime(ValueError):
    """The calendar has no working time on MAX_SEARCH_DAYS days in a row."""


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
        """Return the UTC instants at which `day` opens and closes (local wall-clock times).

        On a day when the clocks change the window can be longer or shorter in real time, and
        empty (opens == closes) when the clocks skip the whole of it. Windows never overlap: the
        first instant showing a later wall-clock time is never earlier.
        """
        return _first_instant_showing(day, self.opens, self.tz), _first_instant_showing(
            day, self.closes, self.tz
        )

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tz).date()


def _first_instant_showing(day: dt.date, wall_time: dt.time, tz: ZoneInfo) -> dt.datetime:
    """Return the first UTC instant at which `tz`'s clock shows `day` at `wall_time` or later."""
    local = dt.datetime.combine(day, wall_time.replace(tzinfo=None))
    # fold=0 is the first occurrence of a time the fall-back repeats: the office opens (or closes)
    # the first time the clock shows it, and does not do it again an hour later.
    instant = local.replace(tzinfo=tz).astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) == local:
        return instant
    # `local` is in a spring-forward gap: the clock never shows it. Python would place it after
    # the jump by the size of the gap (02:30 -> 03:30 EDT), but the first moment the clock reads
    # 02:30 or later is the jump itself (03:00 EDT), which is when a person would open or close.
    # fold=1 reads the time with the offset after the jump, which lands before the jump; bisect
    # between the two to find the jump. At most a day apart, so about 37 steps to the microsecond.
    before_jump = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after_jump = instant
    while after_jump - before_jump > _MICROSECOND:
        middle = before_jump + (after_jump - before_jump) // 2
        if middle.astimezone(tz).replace(tzinfo=None) >= local:
            after_jump = middle
        else:
            before_jump = middle
    return after_jump


def _require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the SLA clock needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def add_covered_time(
    start: dt.datetime, duration: dt.timedelta, hours: WorkingHours | None
) -> dt.datetime:
    """Return the moment `duration` of covered time after `start` has elapsed.

    With no duration left to count, a start in closed hours gives the next opening: a deadline is
    never inside closed hours.
    """
    cursor = _require_aware(start)
    if duration < dt.timedelta(0):
        raise ValueError("duration must not be negative")
    if hours is None:
        return cursor + duration
    remaining = duration
    # No need to look at earlier days: the first instant that shows a later wall-clock time is
    # never earlier, so the previous day's window has closed once the clock shows today.
    day = hours.local_date(cursor)
    days_without_working_time = 0
    while days_without_working_time < MAX_SEARCH_DAYS:
        days_without_working_time += 1
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            # An empty window (the clocks skipped all of it) is no working time: it neither ends
            # a deadline nor resets the guard against broken calendars.
            if opens < closes:
                days_without_working_time = 0
                segment_start = max(cursor, opens)
                if segment_start <= closes:
                    available = closes - segment_start
                    if remaining <= available:
                        return segment_start + remaining
                    remaining -= available
                    cursor = closes
        day += _ONE_DAY
    raise NoWorkingTime(
        f"no working time on {MAX_SEARCH_DAYS} days in a row from {start.isoformat()}"
    )


def add_covered_minutes(
    start: dt.datetime, minutes: int, hours: WorkingHours | None
) -> dt.datetime:
    """Return the deadline `minutes` of covered time after `start`."""
    return add_covered_time(start, dt.timedelta(minutes=minutes), hours)


def covered_time_between(
    start: dt.datetime, end: dt.datetime, hours: WorkingHours | None
) -> dt.timedelta:
    """Return how much covered time lies between `start` and `end` (zero if end <= start)."""
    begin, finish = _require_aware(start), _require_aware(end)
    if finish <= begin:
        return dt.timedelta(0)
    if hours is None:
        return finish - begin
    total = dt.timedelta(0)
    day = hours.local_date(begin)
    # One day further than `finish` reads: see is_covered.
    last_day = hours.local_date(finish) + _ONE_DAY
    while day <= last_day:
        if hours.is_working_day(day):
            opens, closes = hours.window(day)
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > dt.timedelta(0):
                total += overlap
        day += _ONE_DAY
    return total


def resume_deadline(
    *,
    due_at: dt.datetime,
    paused_at: dt.datetime,
    resumed_at: dt.datetime,
    hours: WorkingHours | None,
) -> dt.datetime:
    """Return the deadline after a pause: resumed with exactly the covered time that was left.

    A deadline already reached when the clock paused stays where it was: waiting on the client
    afterwards does not undo a breach.
    """
    # Check all three up front: a naive `resumed_at` must be refused even when the deadline had
    # already passed, and must not surface as a TypeError from comparing naive with aware.
    due, paused, resumed = (_require_aware(m) for m in (due_at, paused_at, resumed_at))
    if due <= paused:
        return due
    left = covered_time_between(paused, due, hours)
    # A resume recorded before the pause (clock skew between workers) resumes at the pause.
    return add_covered_time(max(resumed, paused), left, hours)


def is_covered(moment: dt.datetime, hours: WorkingHours | None) -> bool:
    """Return whether `moment` lies within covered time (opening and closing instants included)."""
    instant = _require_aware(moment)
    if hours is None:
        return True
    day = hours.local_date(instant)
    # Usually an instant is only in its own local day's window, but a clock change across midnight
    # breaks that. On 2010-03-05 Antarctica/Casey went from 02:00 (+11) back to 23:00 on the 4th
    # (+08): that repeated hour reads the 4th while the 5th's window is open. And a closing time
    # skipped by a jump over midnight closes when the clock already shows the next day.
    for candidate in (day - _ONE_DAY, day, day + _ONE_DAY):
        if hours.is_working_day(candidate):
            opens, closes = hours.window(candidate)
            if opens < closes and opens <= instant <= closes:
                return True
    return False


# A deadline is "at risk" once this share of its target has elapsed (25% or less left).
RISK_SHARE = 0.75


def risk_point(target_minutes: int) -> dt.timedelta:
    """Return how much covered time after the start a target of this length becomes at risk."""
    return dt.timedelta(seconds=int(target_minutes * 60 * RISK_SHARE))


@dataclass(frozen=True)
class Deadlines:
    response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    response_risk_at: dt.datetime
    resolution_risk_at: dt.datetime


def duration_words(minutes: int, *, business_hours: bool = False) -> str:
    """A target in words: "2 hours", "1 day 4 hours"; in business hours, never in days.

    A business-hours target counts covered minutes only, so 1,440 of them are 24 business
    hours (about two and a half working days), not "1 day": saying days would promise more.
    """
    units: tuple[tuple[int, str], ...]
    if business_hours:
        hours, mins = divmod(minutes, 60)
        units = ((hours, "business hour"), (mins, "minute"))
    else:
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        units = ((days, "day"), (hours, "hour"), (mins, "minute"))
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units if n]
    return " ".join(parts) or "0 minutes"
