"""Who gets a contract offer, which plan, at what loyalty discount, and what it would have saved.

`eligible_clients()` is one aggregate query (no query per client). The arithmetic below it is
pure: Decimal in, Decimal out, rounded by clients.money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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

from clients.models import SPEND_KINDS, ChargeKind, Client, trailing_year_start
from clients.money import ZERO, cents, discounted
from contracts.models import ContractPlan, ServiceContract
from offers.models import CampaignSettings, ConversionOffer

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


@dataclass(frozen=True)
class PlanTerms:
    """What the recommendation needs to know about a plan (no ORM)."""

    plan_id: int
    monthly_price: Decimal
    included_hours: Decimal


def recommend_plan(monthly_hours: Decimal, plans: Sequence[PlanTerms]) -> PlanTerms:
    """Return the cheapest plan whose included hours cover the average month; else the biggest."""
    if not plans:
        raise ValueError("no plans are offered")
    covering = [p for p in plans if p.included_hours >= monthly_hours]
    if covering:
        return min(covering, key=lambda p: (p.monthly_price, p.plan_id))
    return max(plans, key=lambda p: (p.included_hours, -p.monthly_price, p.plan_id))


@dataclass(frozen=True)
class Savings:
    trailing_labour: Decimal
    trailing_priority: Decimal
    trailing_spend: Decimal
    list_price: Decimal
    discount_percent: Decimal
    monthly_price: Decimal
    contract_cost: Decimal  # twelve discounted months

    @property
    def difference(self) -> Decimal:
        """Positive: what the contract would have saved; negative: what it would have cost more."""
        return self.trailing_spend - self.contract_cost


def savings_statement(
    *, labour: Decimal, priority: Decimal, list_price: Decimal, discount_percent: Decimal
) -> Savings:
    """Return the client's last twelve months against twelve months of the discounted contract.

    The recommended plan's included hours cover the client's average month, so the contract
    would have cost its monthly price and nothing more.
    """
    monthly = discounted(list_price, discount_percent)
    labour, priority = cents(labour), cents(priority)
    return Savings(
        trailing_labour=labour,
        trailing_priority=priority,
        trailing_spend=labour + priority,
        list_price=cents(list_price),
        discount_percent=discount_percent,
        monthly_price=monthly,
        contract_cost=monthly * 12,
    )


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


def with_trailing_figures(clients: QuerySet[Client], *, now: dt.datetime) -> QuerySet[Client]:
    """Annotate each client's last twelve months: labour, priority, spend, hours, purchases, tickets.

    One pass over the year's charges: they are joined on (client, occurred_at >= a year ago)
    and summed per client with FILTER clauses, so PostgreSQL merges two sorted scans and
    aggregates once, instead of running a subquery per figure per client (five times slower at
    50,000 clients; docs/performance.md). Tickets are counted by a correlated COUNT(*) on
    their (client, opened_at) index: a second joined table would multiply the charge rows.

    The result is grouped by client, so `clients` must not join anything with more than one
    row per client; offerable_clients() joins only the primary contact, which is unique.
    """
    since = trailing_year_start(now)
    tickets = client_tickets().filter(client=OuterRef("pk"), opened_at__gte=since)
    labour = Q(year_charges__kind__in=[ChargeKind.LABOUR, ChargeKind.OVERAGE])
    priority = Q(year_charges__kind=ChargeKind.PAID_PRIORITY)
    # Spend is what a contract replaces: hardware and other sales, and the fees of a contract
    # held before, count nowhere in eligibility, ranking or the statement.
    spend = Q(year_charges__kind__in=SPEND_KINDS)
    zero = Value(ZERO, output_field=MONEY)
    return clients.alias(
        year_charges=FilteredRelation("charges", condition=Q(charges__occurred_at__gte=since))
    ).annotate(
        trailing_labour=Coalesce(Sum("year_charges__amount", filter=labour), zero),
        trailing_priority=Coalesce(Sum("year_charges__amount", filter=priority), zero),
        trailing_hours=Coalesce(Sum("year_charges__hours", filter=labour), zero),
        priority_purchases=Count("year_charges", filter=priority),
        trailing_tickets=count_rows(tickets),
        trailing_spend=Coalesce(Sum("year_charges__amount", filter=spend), zero),
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


def eligible_clients(*, now: dt.datetime, rules: CampaignSettings) -> QuerySet[Client]:
    """Offerable clients past the cooldown whose last year passes a threshold, best first."""
    recent_offer = ConversionOffer.objects.filter(
        client=OuterRef("pk"), created_at__gte=now - dt.timedelta(days=rules.cooldown_days)
    )
    return (
        with_trailing_figures(offerable_clients().filter(~Exists(recent_offer)), now=now)
        .filter(
            Q(trailing_spend__gte=rules.min_trailing_spend)
            | Q(trailing_tickets__gte=rules.min_trailing_tickets)
        )
        .order_by("-trailing_spend", "-trailing_tickets", "-priority_purchases", "pk")
    )


def offered_plans() -> list[PlanTerms]:
    return [
        PlanTerms(plan_id=p.pk, monthly_price=p.monthly_price, included_hours=p.included_hours)
        for p in ContractPlan.objects.offered().order_by("monthly_price", "pk")
    ]
