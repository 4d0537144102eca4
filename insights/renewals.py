"""Renewals: the active contracts whose term ends soon, for the manager's page and the weekly
email. The price after renewal is the contract's own rule (ServiceContract.renewal_price); the
client's notice is contracts.renewals' (RenewalSettings.notice_days days ahead)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clients.mail import render_email
from clients.models import EmailKind
from clients.outbox import outbox_add
from clients.staff import users_with_perm
from contracts.models import RenewalMode, RenewalSettings, ServiceContract
from insights.models import InsightsSettings
from insights.staff import VIEW_INSIGHTS

HORIZON_DAYS = 60  # how far ahead the page and the weekly email look


@dataclass(frozen=True)
class Horizon:
    """The days a renewal list covers: from `today` to `last` (both included)."""

    today: dt.date
    days: int = HORIZON_DAYS

    @property
    def last(self) -> dt.date:
        return self.today + dt.timedelta(days=self.days)


def renewals_due(horizon: Horizon) -> QuerySet[ServiceContract]:
    """Active contracts whose term ends within the horizon, soonest first (one query, on the
    (status, ends_on) index), with the client and plan the rows and the renewal price read."""
    return (
        ServiceContract.objects.active()
        .filter(ends_on__gte=horizon.today, ends_on__lte=horizon.last)
        .select_related("client", "plan")
        .order_by("ends_on", "pk")
    )


@dataclass(frozen=True)
class Renewal:
    """A row of the list: the contract, and when its client's notice goes out (automatic
    renewal only; None for a contract renewed by hand, whose client gets no notice)."""

    contract: ServiceContract
    notice_due_on: dt.date | None

    @property
    def renews_automatically(self) -> bool:
        return self.contract.renewal == RenewalMode.AUTOMATIC

    @property
    def notice_overdue(self) -> bool:
        """Its notice was due before today and has not gone: the daily run could not send it
        (no primary contact, no worker running), and a manager should know before the term
        renews on a client who was never told."""
        return (
            self.notice_due_on is not None
            and self.contract.renewal_notice_sent_at is None
            and self.notice_due_on < timezone.localdate()
        )

    @property
    def next_starts_on(self) -> dt.date:
        """The first day of the next term (contracts.services.contract_renew starts it there)."""
        return self.contract.ends_on + dt.timedelta(days=1)


def renewals_of(
    contracts: Iterable[ServiceContract], settings_row: RenewalSettings
) -> list[Renewal]:
    notice = dt.timedelta(days=settings_row.notice_days)
    return [
        Renewal(c, c.ends_on - notice if c.renewal == RenewalMode.AUTOMATIC else None)
        for c in contracts
    ]


def renewals_weekly_email(
    renewals: list[Renewal], *, horizon: Horizon, to: list[str]
) -> EmailMultiAlternatives:
    """The managers' Monday list of contracts ending within the horizon."""
    context = {
        "renewals": renewals,
        "horizon": horizon,
        "automatic": sum(r.renews_automatically for r in renewals),
        "page_path": reverse("insights:renewals"),
    }
    return render_email("renewals_weekly", context, to=to)


def insights_readers() -> list[str]:
    """Everyone who may open the insights (managers, superusers), active, by email."""
    users = users_with_perm(VIEW_INSIGHTS, include_superusers=True)
    return sorted({u.email for u in users.filter(is_active=True).exclude(email="")})


def _monday(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday())


def _claim_week(today: dt.date) -> bool:
    """Claim this week's digest: True for the first run of the week, False for a retried task
    or a second beat. The claim commits with the digest's outbox rows, so the week gets its
    digest exactly once: a run that dies before the commit leaves the week to the next."""
    monday = _monday(today)
    claimed = (
        InsightsSettings.objects.filter(pk=1)
        .filter(Q(renewals_digest_week__isnull=True) | Q(renewals_digest_week__lt=monday))
        .update(renewals_digest_week=monday)
    )
    return claimed == 1


def renewals_digest_send(now: dt.datetime | None = None) -> int:
    """Write every manager's digest of the contracts ending in the next HORIZON_DAYS to the
    outbox, with the week's claim; return how many were written. One row per manager: one
    manager's mailbox refusing it never sends the others theirs twice."""
    now = now or timezone.now()
    horizon = Horizon(timezone.localdate(now))
    readers = insights_readers()
    if not readers:
        return 0
    InsightsSettings.load()  # the row exists before it is claimed
    with transaction.atomic():
        if not _claim_week(horizon.today):
            return 0
        renewals = renewals_of(renewals_due(horizon), RenewalSettings.load())
        for address in readers:
            outbox_add(
                renewals_weekly_email(renewals, horizon=horizon, to=[address]),
                kind=EmailKind.RENEWALS_WEEKLY,
                key=f"renewals-weekly:{_monday(horizon.today)}",
                now=now,
            )
    return len(readers)
