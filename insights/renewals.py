"""Renewals: the active contracts whose term ends soon, for the manager's page and the weekly
email. The price after renewal is the contract's own rule (ServiceContract.renewal_price); the
client's notice is contracts.renewals' (RenewalSettings.notice_days days ahead)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clients.mail import render_email
from clients.staff import users_with_perm
from contracts.models import RenewalMode, RenewalSettings, ServiceContract
from insights.models import InsightsSettings
from insights.staff import VIEW_INSIGHTS

log = logging.getLogger(__name__)

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


def _claim_week(today: dt.date) -> bool:
    """Claim this week's digest: True for the first run of the week, False for a retried task
    or a second beat. At most once: a run that dies after claiming leaves the week without
    its digest, which the renewals page still shows, rather than send the managers two."""
    monday = today - dt.timedelta(days=today.weekday())
    InsightsSettings.load()  # the row exists before it is claimed
    claimed = (
        InsightsSettings.objects.filter(pk=1)
        .filter(Q(renewals_digest_week__isnull=True) | Q(renewals_digest_week__lt=monday))
        .update(renewals_digest_week=monday)
    )
    return claimed == 1


def renewals_digest_send(now: dt.datetime | None = None) -> int:
    """Email every manager the contracts ending in the next HORIZON_DAYS; return how many
    messages were sent. One message per manager, over one connection; a manager whose message
    fails is logged and the others still get theirs (a weekly digest is not worth a retry that
    would send the others theirs twice)."""
    now = now or timezone.now()
    horizon = Horizon(timezone.localdate(now))
    readers = insights_readers()
    if not readers or not _claim_week(horizon.today):
        return 0
    renewals = renewals_of(renewals_due(horizon), RenewalSettings.load())
    sent = 0
    with get_connection() as connection:
        for address in readers:
            message = renewals_weekly_email(renewals, horizon=horizon, to=[address])
            try:
                connection.send_messages([message])
                sent += 1
            except Exception:
                log.exception("could not send the weekly renewals email to %s", address)
    return sent
