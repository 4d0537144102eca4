"""The business calendar: when the practice works (weekdays, opening hours, holidays).

Plans run their SLA clock in a calendar's hours, the rate card prices after-hours work by one,
and the conversion campaign counts a transactional client's wait for a first response in one.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from contracts.sla import WorkingHours
from contracts.validators import validate_timezone

# Not calendar.day_name: that follows the server's locale, and clients read these in English.
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class BusinessCalendar(models.Model):
    """When the practice works: weekdays, opening hours and holidays, in its own time zone."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    opens_at = models.TimeField(default=dt.time(8, 0))
    closes_at = models.TimeField(default=dt.time(18, 0))
    monday = models.BooleanField(default=True)
    tuesday = models.BooleanField(default=True)
    wednesday = models.BooleanField(default=True)
    thursday = models.BooleanField(default=True)
    friday = models.BooleanField(default=True)
    saturday = models.BooleanField(default=False)
    sunday = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=F("opens_at")), name="calendar_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(monday=True)
                | Q(tuesday=True)
                | Q(wednesday=True)
                | Q(thursday=True)
                | Q(friday=True)
                | Q(saturday=True)
                | Q(sunday=True),
                name="calendar_has_a_working_day",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def working_weekdays(self) -> frozenset[int]:
        """Return the working weekdays as `date.weekday()` numbers (Monday is 0)."""
        flags = (
            self.monday,
            self.tuesday,
            self.wednesday,
            self.thursday,
            self.friday,
            self.saturday,
            self.sunday,
        )
        return frozenset(day for day, works in enumerate(flags) if works)

    @property
    def hours_text(self) -> str:
        """The working week in words, for clients: "Monday to Friday, 08:00 to 18:00 (...)"."""
        days = sorted(self.working_weekdays)
        names = [DAY_NAMES[d] for d in days]
        consecutive = len(days) > 2 and days == list(range(days[0], days[-1] + 1))
        span = f"{names[0]} to {names[-1]}" if consecutive else ", ".join(names)
        # A client reads "New York time", not the zone's identifier "America/New_York".
        place = self.timezone.rsplit("/", 1)[-1].replace("_", " ")
        return (
            f"{span}, {self.opens_at:%H:%M} to {self.closes_at:%H:%M} ({place} time), "
            "public holidays excepted"
        )

    def works_on(self, day: dt.date) -> bool:
        """Return whether `day` is a working day: a working weekday and not a holiday."""
        return (
            day.weekday() in self.working_weekdays and not self.holidays.filter(date=day).exists()
        )

    def working_hours(self) -> WorkingHours:
        """Return this calendar as the SLA engine's value object (one query for the holidays)."""
        return WorkingHours(
            tz=zoneinfo.ZoneInfo(self.timezone),
            opens=self.opens_at,
            closes=self.closes_at,
            weekdays=self.working_weekdays,
            holidays=frozenset(self.holidays.values_list("date", flat=True)),
        )

    def clean(self) -> None:
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "Closing time must be after opening time."})
        if not self.working_weekdays:
            raise ValidationError("Pick at least one working day.")


class Holiday(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="holidays"
    )
    date = models.DateField()
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="one_holiday_per_calendar_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.date:%Y-%m-%d})"
