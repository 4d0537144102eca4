"""Who gets a contract offer, which plan, at what loyalty discount, and whether it fits.

Each candidate's last twelve whole months are re-billed under every offered plan, month by
month, with billing's own rule (billing.pricing.contract_month); the cheapest replay is the
recommendation, and it is offered as a saving only where it costs no more than the client paid
(plus the premium the campaign allows), as a premium for value where the client showed a need
for faster service, and not at all otherwise.

`eligible_clients()` is one aggregate query (no query per client) that also reads each
candidate's twelve months. The arithmetic is pure: Decimal in, Decimal out, rounded by
clients.money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from billing.models import RateCard
from billing.periods import Period
from clients.models import SPEND_KINDS, ChargeKind, Client
from clients.money import ZERO, cents
from contracts.models import ContractPlan, ContractTerms, ServiceContract
from contracts.sla import add_covered_minutes
from offers.models import CampaignSettings, ConversionOffer
from offers.replay import (
    REPLAY_MONTHS as REPLAY_MONTHS,
)
from offers.replay import (
    Fit as Fit,
)
from offers.replay import (
    MonthUsage as MonthUsage,
)
from offers.replay import (
    OfferedPlan as OfferedPlan,
)
from offers.replay import (
    Replay as Replay,
)
from offers.replay import (
    ReplayMonth as ReplayMonth,
)
from offers.replay import (
    Verdict as Verdict,
)
from offers.replay import (
    YearUsage as YearUsage,
)

# The replay's names are the campaign's too: callers import them from here.
from offers.replay import (
    best_replay as best_replay,
)
from offers.replay import (
    fit as fit,
)
from offers.replay import (
    need_shown as need_shown,
)
from offers.replay import (
    replay as replay,
)
from offers.replay import (
    replay_months as replay_months,
)
from offers.replay import (
    statement_of as statement_of,
)

MONEY: DecimalField[Decimal, Decimal] = DecimalField(max_digits=12, decimal_places=2)


# --- Pure rules --------------------------------------------------------------------------------
def loyalty_discount(
    *, customer_since: dt.date, today: dt.date, rules: CampaignSettings
) -> Decimal:
    """Return the discount %: the base plus a bonus per full year as a customer, capped."""
    years = (
        today.year
        - customer_since.year
        - ((today.month, today.day) < (customer_since.month, customer_since.day))
    )
    percent = rules.base_discount_percent + rules.tenure_bonus_percent_per_year * max(years, 0)
    return cents(min(percent, rules.max_discount_percent))


# --- The eligibility query ------------------------------------------------------------------------
def count_rows(rows: QuerySet[Any]) -> Subquery:
    """COUNT(*) of a correlated queryset as one scalar subquery.

    Unlike `.values(fk).annotate(n=Count(...))` it always returns one row (0 when nothing
    matches, so no Coalesce), it groups by nothing (the outer query can group by the client
    alone), and COUNT(*) reads no column, so an index on the filtered columns answers it alone.
    """
    counted = rows.order_by().annotate(n=Func(template="COUNT(*)", output_field=IntegerField()))
    return Subquery(counted.values("n"), output_field=IntegerField())


def client_tickets() -> QuerySet[Any]:
    """All tickets, reached through the clients' reverse relation `tickets`.

    Tickets live in an app above this one, so this module never imports them; the relation's
    name is the seam (docs/architecture.md, "Seams"). Counting through the relation's model
    reads the ticket index on (client, opened_at) alone: a filter across the relation
    (`Client.objects.filter(tickets__...)`) joined the clients table again for every client.
    """
    tickets: Any = Client._meta.get_field("tickets").related_model
    return tickets._default_manager.all()


def month_field(i: int, what: str) -> str:
    return f"month_{i}_{what}"


class WholeMinutes(Func):
    """A sum of hours as whole minutes, rounded half up, computed by the database as an integer.

    Hours are recorded to the cent of an hour, so hours x 60 is a multiple of 0.6 and never ends
    in .5: SQLite's floating-point sum rounds the same as PostgreSQL's exact one.
    """

    template = "CAST(ROUND(%(expressions)s * 60) AS INTEGER)"
    output_field = IntegerField()

    def get_db_converters(self, connection: Any) -> list[Any]:
        # Both databases return an int: no Python conversion per value (12 per candidate).
        return []


class SumAsReturned(Sum):
    """Sum() without Django's per-value Decimal(...) conversion, which re-makes the Decimal
    psycopg returns (12 per candidate); SQLite's own converter for decimals still applies."""

    def get_db_converters(self, connection: Any) -> list[Any]:
        field: Any = self.output_field
        return field.get_db_converters(connection)


def long_waits(*, since: dt.datetime, now: dt.datetime) -> QuerySet[Any]:
    """Tickets opened since `since` that waited past their long-wait moment for a first response
    (answered after it, or not at all and still unresolved then)."""
    waited = F("long_wait_at")
    return client_tickets().filter(
        Q(first_response_at__isnull=True) | Q(first_response_at__gt=waited),
        Q(resolved_at__isnull=True) | Q(resolved_at__gt=waited),
        opened_at__gte=since,
        long_wait_at__lte=now,
    )


def with_trailing_figures(clients: QuerySet[Client], *, now: dt.datetime) -> QuerySet[Client]:
    """Annotate each client's last twelve whole months, in total and month by month.

    In total: labour, priority, spend, hours, tickets; month by month (month_<i>_minutes and
    month_<i>_paid, i = 0 for the oldest of replay_months()): the work in whole minutes, as the
    replay bills it, and what was paid for it, which the replay re-bills. And the need for faster service shown since the
    window began: paid priority bought, and tickets that waited too long for a first response.

    One pass over the year's spend: charges are joined on (client, spend kind, occurred_at >= the
    window's start) and summed per client with FILTER clauses, so PostgreSQL merges two sorted scans and
    aggregates once, instead of running a subquery per figure per client (five times slower at
    50,000 clients; docs/performance.md). Tickets are counted by correlated COUNT(*)s on their
    (client, opened_at) index: a second joined table would multiply the charge rows.

    The result is grouped by client, so `clients` must not join anything with more than one
    row per client; offerable_clients() joins only the primary contact, which is unique.
    """
    months = replay_months(now)
    since, until = months[0].starts_at(), months[-1].ends_at()
    in_window = Q(year_charges__occurred_at__lt=until)
    tickets = client_tickets().filter(
        client=OuterRef("pk"), opened_at__gte=since, opened_at__lt=until
    )
    work = Q(year_charges__kind__in=[ChargeKind.LABOUR, ChargeKind.OVERAGE])
    priority = Q(year_charges__kind=ChargeKind.PAID_PRIORITY)
    zero = Value(ZERO, output_field=MONEY)
    monthly: dict[str, Any] = {}
    for i, month in enumerate(months):
        # The month's range first: PostgreSQL tests a FILTER's conditions in the order written,
        # and a timestamp comparison is cheaper than the kind's IN list (31 FILTERs per row).
        this_month = Q(
            year_charges__occurred_at__gte=month.starts_at(),
            year_charges__occurred_at__lt=month.ends_at(),
        )
        monthly[month_field(i, "minutes")] = WholeMinutes(
            Sum("year_charges__hours", filter=this_month & work)
        )
        monthly[month_field(i, "paid")] = SumAsReturned("year_charges__amount", filter=this_month)
    # Spend is what a contract replaces: hardware and other sales, and the fees of a contract
    # held before, count nowhere in eligibility, ranking or the statement. So only spend is
    # joined, and a figure of all spend needs no test of the kind.
    year_spend = Q(charges__occurred_at__gte=since, charges__kind__in=SPEND_KINDS)
    return clients.alias(year_charges=FilteredRelation("charges", condition=year_spend)).annotate(
        trailing_labour=Coalesce(Sum("year_charges__amount", filter=in_window & work), zero),
        trailing_priority=Coalesce(Sum("year_charges__amount", filter=in_window & priority), zero),
        trailing_hours=Coalesce(Sum("year_charges__hours", filter=in_window & work), zero),
        trailing_spend=Coalesce(Sum("year_charges__amount", filter=in_window), zero),
        trailing_tickets=count_rows(tickets),
        # Need runs to this moment: a purchase this month shows it as well as one last year
        # (and not past it: a preview as of an earlier day counts only what happened by then).
        priority_purchases=Count(
            "year_charges", filter=Q(year_charges__occurred_at__lte=now) & priority
        ),
        long_waits=count_rows(long_waits(since=since, now=now).filter(client=OuterRef("pk"))),
        **monthly,
    )


MINUTES_FIELDS = tuple(month_field(i, "minutes") for i in range(REPLAY_MONTHS))
PAID_FIELDS = tuple(month_field(i, "paid") for i in range(REPLAY_MONTHS))


def usage_of(client: Client, months: Sequence[Period]) -> YearUsage:
    """The month-by-month usage with_trailing_figures() annotated on `client`."""
    figures = client.__dict__
    return YearUsage(
        months,
        [figures[name] or 0 for name in MINUTES_FIELDS],
        [figures[name] for name in PAID_FIELDS],
    )


def offerable_clients() -> QuerySet[Client]:
    """Clients an offer may go to: active, transactional, not opted out, none open, reachable.

    The primary contact is joined (a client has at most one), which both requires it and
    annotates its id and address without a subquery per client.
    """
    open_offer = ConversionOffer.objects.open().filter(client=OuterRef("pk"))
    return (
        Client.objects.active()
        .filter(offers_opt_out=False)
        .alias(primary_contact=FilteredRelation("contacts", condition=Q(contacts__is_primary=True)))
        .filter(
            ~ServiceContract.objects.client_holds_one(),
            ~Exists(open_offer),
            primary_contact__isnull=False,
        )
        .annotate(
            primary_contact_id=F("primary_contact__pk"),
            primary_email=F("primary_contact__email"),
        )
    )


def not_recently_offered(
    clients: QuerySet[Client], *, now: dt.datetime, rules: CampaignSettings
) -> QuerySet[Client]:
    """Leave out clients offered a contract within the cooldown (answered or not)."""
    recent_offer = ConversionOffer.objects.filter(
        client=OuterRef("pk"), created_at__gte=now - dt.timedelta(days=rules.cooldown_days)
    )
    return clients.filter(~Exists(recent_offer))


def eligible_clients(*, now: dt.datetime, rules: CampaignSettings) -> QuerySet[Client]:
    """Offerable clients past the cooldown whose last year passes a threshold, best first."""
    return (
        with_trailing_figures(
            not_recently_offered(offerable_clients(), now=now, rules=rules), now=now
        )
        .filter(
            Q(trailing_spend__gte=rules.min_trailing_spend)
            | Q(trailing_tickets__gte=rules.min_trailing_tickets)
        )
        .order_by("-trailing_spend", "-trailing_tickets", "-priority_purchases", "pk")
    )


def offered_plans() -> list[OfferedPlan]:
    """The plans a campaign may recommend: offered, and with terms a client can agree to."""
    terms = ContractTerms.objects.latest_per_plan().filter(plan=OuterRef("pk"))
    plans = (
        ContractPlan.objects.offered()
        .annotate(terms_id=Subquery(terms.values("pk")[:1]))
        .filter(terms_id__isnull=False)
        .order_by("monthly_price", "pk")
    )
    return [
        OfferedPlan(
            plan_id=p.pk,
            monthly_price=p.monthly_price,
            included_hours=p.included_hours,
            overage_rate=p.overage_hourly_rate,
            term_months=p.term_months,
            terms_id=p.terms_id,  # type: ignore[attr-defined]
        )
        for p in plans
    ]


def long_wait_moment(opened_at: dt.datetime) -> dt.datetime:
    """When a transactional ticket opened at `opened_at` will have waited the campaign's
    threshold of business hours (in the rate card's calendar) for a first response."""
    rules = CampaignSettings.load()
    calendar = RateCard.load().calendar
    hours = calendar.working_hours() if calendar is not None else None
    return add_covered_minutes(opened_at, rules.need_wait_hours * 60, hours)
