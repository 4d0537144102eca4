"""The rows every demo practice shares: the office calendar, the plans and the demo accounts.

They are created only where missing, so seeding again (or after a real practice edited a plan)
leaves them as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from billing.models import RateCard
from consultancy.demo.samples import DEMO_USERS, INVOICE_DETAILS, PLANS
from contracts.models import BusinessCalendar, ContractPlan, Coverage, Holiday, ServiceLevel
from contracts.services import plan_terms_set
from contracts.sla import WorkingHours, add_covered_minutes
from contracts.terms import standard_terms_of
from offers.models import CampaignSettings


@dataclass(frozen=True)
class ReferenceData:
    calendar: BusinessCalendar
    plans: list[ContractPlan]
    users: list[User]  # in DEMO_USERS order: the manager first, then the consultants

    @property
    def consultants(self) -> list[User]:
        return self.users[1:]


@dataclass(frozen=True)
class ServiceTerms:
    """Each plan's targets by priority, the office hours and the rate card, read once instead of
    per ticket."""

    levels: dict[tuple[int, str], ServiceLevel]
    office_hours: WorkingHours
    rates: RateCard
    # The campaign's long wait: this many business minutes in the rate card's calendar (None:
    # every hour counts), as offers.campaign.long_wait_moment reads them on every call.
    long_wait_minutes: int
    long_wait_hours: WorkingHours | None

    def level(self, plan: ContractPlan, priority: str) -> ServiceLevel:
        return self.levels[(plan.pk, priority)]

    def working_hours(self, plan: ContractPlan) -> WorkingHours | None:
        """The hours the plan's SLA clock counts (None: every hour counts)."""
        return None if plan.is_24x7 else self.office_hours

    def long_wait_moment(self, opened_at: dt.datetime) -> dt.datetime:
        """When a transactional ticket opened at `opened_at` has waited long for a first
        response (offers.campaign.long_wait_moment, with the settings read once)."""
        return add_covered_minutes(opened_at, self.long_wait_minutes, self.long_wait_hours)


def us_holidays(year: int) -> list[tuple[dt.date, str]]:
    """Return the practice's observed holidays for `year` (fixed and floating US holidays)."""

    def nth_weekday(month: int, weekday: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last_weekday(month: int, weekday: int) -> dt.date:
        last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)

    return [
        (dt.date(year, 1, 1), "New Year's Day"),
        (last_weekday(5, 0), "Memorial Day"),
        (dt.date(year, 7, 4), "Independence Day"),
        (nth_weekday(9, 0, 1), "Labor Day"),
        (nth_weekday(11, 3, 4), "Thanksgiving"),
        (dt.date(year, 12, 25), "Christmas Day"),
    ]


def ensure_reference_data() -> ReferenceData:
    """Create whichever of the calendar, plans and demo accounts are missing; return all of them."""
    calendar = ensure_calendar()
    ensure_invoice_details(calendar)
    return ReferenceData(calendar=calendar, plans=ensure_plans(calendar), users=ensure_users())


def ensure_invoice_details(calendar: BusinessCalendar) -> None:
    """Give the demo's invoices the practice's address and how to pay, once."""
    card = RateCard.load()
    if not card.invoice_details:
        card.invoice_details = INVOICE_DETAILS
        card.calendar = card.calendar or calendar
        card.save()


def ensure_calendar() -> BusinessCalendar:
    """The office-hours calendar, with holidays from last year to next year."""
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Office hours", defaults={"timezone": settings.TIME_ZONE}
    )
    this_year = timezone.localdate().year
    # Two years back: the demo's tickets reach back to the year the first past campaign replayed.
    for year in range(this_year - 2, this_year + 2):
        for day, name in us_holidays(year):
            Holiday.objects.get_or_create(calendar=calendar, date=day, defaults={"name": name})
    return calendar


def ensure_plans(calendar: BusinessCalendar) -> list[ContractPlan]:
    """The three contract plans, each with a response and resolution target per priority."""
    plans = []
    for name, price, hours, coverage, overage, targets in PLANS:
        plan, created = ContractPlan.objects.get_or_create(
            name=name,
            defaults={
                "monthly_price": Decimal(price),
                "included_hours": Decimal(hours),
                "coverage": coverage,
                "overage_hourly_rate": Decimal(overage),
                "calendar": calendar,
                "description": f"{hours} hours a month included, {Coverage(coverage).label.lower()} coverage.",
            },
        )
        if created:
            ServiceLevel.objects.bulk_create(
                ServiceLevel(plan=plan, priority=p, response_minutes=r, resolution_minutes=s)
                for p, (r, s) in targets.items()
            )
            summary, text = standard_terms_of(plan)
            plan_terms_set(plan=plan, summary=summary, text=text)
        plans.append(plan)
    return plans


def ensure_users() -> list[User]:
    """The demo accounts, each in its role's group, with its demo password."""
    users = []
    for username, password, first, last, group in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@practice.example",
                "is_staff": True,
            },
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group))
        users.append(user)
    return users


def read_service_terms(reference: ReferenceData) -> ServiceTerms:
    """Read the plans' targets and the office hours (with its holidays) once, for every ticket."""
    office_hours = reference.calendar.working_hours()
    levels = {
        (level.plan_id, level.priority): level
        for level in ServiceLevel.objects.filter(plan__in=reference.plans)
    }
    rates = RateCard.load()
    return ServiceTerms(
        levels=levels,
        office_hours=office_hours,
        rates=rates,
        long_wait_minutes=CampaignSettings.load().need_wait_hours * 60,
        long_wait_hours=rates.calendar.working_hours() if rates.calendar is not None else None,
    )
