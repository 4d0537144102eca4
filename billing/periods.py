"""Billing periods: calendar months in the practice's time zone, named "2026-11"."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone

PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})$")
# Not calendar.month_name: that follows the server's locale, and invoices are in English.
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class PeriodError(ValueError):
    """A period someone typed that is not a month we can bill; the message is for the user."""


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9998:
            raise PeriodError(f"{self.year:04d}-{self.month:02d} is not a month.")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read "2026-11"; raise PeriodError for anything else."""
        match = PERIOD.match(text.strip())
        if match is None:
            raise PeriodError(f"{text[:20]!r} is not a month like 2026-11.")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    @classmethod
    def last_closed(cls, today: dt.date | None = None) -> Period:
        """The latest month that has ended: the one a billing run bills by default."""
        return cls.of(today or timezone.localdate()).previous

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    @property
    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def starts_at(self) -> dt.datetime:
        """Midnight at the start of the month, in the practice's time zone."""
        return day_start(self.first_day)

    def ends_at(self) -> dt.datetime:
        """Midnight at the start of the next month: the period is [starts_at, ends_at)."""
        return day_start(self.next.first_day)

    def has_ended(self, today: dt.date | None = None) -> bool:
        return self.last_day < (today or timezone.localdate())

    def days_within(self, starts_on: dt.date, last_day: dt.date) -> int:
        """How many days of [starts_on, last_day] fall in this month (0 when none)."""
        first = max(starts_on, self.first_day)
        last = min(last_day, self.last_day)
        return max(0, (last - first).days + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """ "November 2026", as people read it."""
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"


def day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day`, in the practice's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def months_between(first: Period, last: Period) -> list[Period]:
    """The months from `first` to `last`, both included (empty when last comes first)."""
    months = []
    current = first
    while current <= last:
        months.append(current)
        current = current.next
    return months
