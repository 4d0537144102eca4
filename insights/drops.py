"""Drop candidates: transactional clients who turned down contract offers (declined, or let
them expire) at least twice, or opted out of offers, ranked by what an hour of our work earned
over the last twelve months, lowest first.

One query for a page of candidates, whatever the number of clients: every figure is a
correlated subquery (as Client.with_trailing_spend), so nothing multiplies rows and the
ranking is done in SQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from clients.models import Client, ClientEvent, ClientEventKind, ClientStatus, trailing_year_start
from clients.money import cents
from contracts.models import ServiceContract
from offers.models import OPEN_OFFER_STATUSES, ConversionOffer, OfferStatus
from tickets.models import Ticket, TimeEntry

OFFERS_TURNED_DOWN = 2  # declined or expired offers that make a client a candidate
RECENT_DROPS_DAYS = 90  # how long a drop stays on the page with its Undo button
RECENT_DROPS_SHOWN = 20


def _count(rows: QuerySet) -> Coalesce:
    """The number of `rows` (already filtered on the outer client) as a subquery; 0 for none."""
    counted = rows.order_by().values("client").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def drop_candidates(now: dt.datetime) -> QuerySet[Client]:
    """Active clients without an active contract who turned down two offers or opted out,
    annotated with the evidence; the lowest revenue per hour of work first (clients with no
    work logged in the year last: there is nothing to weigh), then the lowest revenue."""
    offers = ConversionOffer.objects.filter(client=OuterRef("pk"))
    # "Ignored" is an offer that ran out unanswered: closed as expired, or past its expiry and
    # not closed yet by the nightly task (ConversionOffer.is_expired, in SQL).
    expired = Q(status=OfferStatus.EXPIRED) | Q(status__in=OPEN_OFFER_STATUSES, expires_at__lte=now)
    since = trailing_year_start(now)
    minutes = (
        TimeEntry.objects.filter(
            ticket__client=OuterRef("pk"), work_date__gte=timezone.localdate(since)
        )
        .order_by()
        .values("ticket__client")
        .annotate(total=Sum("minutes"))
        .values("total")
    )
    last_ticket = Ticket.objects.filter(client=OuterRef("pk")).order_by("-opened_at", "-pk")
    opted_out = ClientEvent.objects.filter(
        client=OuterRef("pk"), kind=ClientEventKind.OPTED_OUT
    ).order_by("-at", "-pk")
    return (
        Client.objects.active()
        .filter(~ServiceContract.objects.client_holds_one())
        .with_trailing_spend(now)
        .annotate(
            offers_declined=_count(offers.filter(status=OfferStatus.DECLINED)),
            offers_expired=_count(offers.filter(expired)),
            minutes_worked=Coalesce(Subquery(minutes, output_field=IntegerField()), 0),
            last_ticket_id=Subquery(last_ticket.values("pk")[:1]),
            last_ticket_at=Subquery(last_ticket.values("opened_at")[:1]),
            opted_out_at=Subquery(opted_out.values("at")[:1]),
        )
        .annotate(offers_turned_down=F("offers_declined") + F("offers_expired"))
        .filter(Q(offers_opt_out=True) | Q(offers_turned_down__gte=OFFERS_TURNED_DOWN))
        .annotate(
            # Only the ranking key is a float (SQLite divides integers as integers); the rate
            # shown is worked out in Decimal from the two sums (Candidate.revenue_per_hour).
            rank_rate=Case(
                When(
                    minutes_worked__gt=0,
                    then=Cast("trailing_spend", FloatField())
                    * Value(60.0)
                    / Cast("minutes_worked", FloatField()),
                ),
                default=None,
                output_field=FloatField(),
            )
        )
        .order_by(F("rank_rate").asc(nulls_last=True), "trailing_spend", "name", "pk")
    )


@dataclass(frozen=True)
class Candidate:
    """A row of the drop list: the client and the evidence."""

    client: Client

    @property
    def revenue(self) -> Decimal:
        return Decimal(self.client.trailing_spend)  # type: ignore[attr-defined]

    @property
    def minutes(self) -> int:
        return int(self.client.minutes_worked)  # type: ignore[attr-defined]

    @property
    def hours(self) -> Decimal:
        return cents(Decimal(self.minutes) / 60)

    @property
    def revenue_per_hour(self) -> Decimal | None:
        """Revenue over hours worked, to the cent; None without any work logged."""
        if not self.minutes:
            return None
        return cents(self.revenue * 60 / self.minutes)


def recently_dropped(now: dt.datetime) -> QuerySet[Client]:
    """Clients dropped in the last RECENT_DROPS_DAYS days, the latest first (one query)."""
    return Client.objects.filter(
        status=ClientStatus.DROPPED, dropped_at__gte=now - dt.timedelta(days=RECENT_DROPS_DAYS)
    ).order_by("-dropped_at", "-pk")[:RECENT_DROPS_SHOWN]
