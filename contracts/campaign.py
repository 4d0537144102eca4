"""Who gets a contract offer, which plan, at what loyalty discount, and what it would have saved.

`eligible_clients()` is one aggregate query (no query per client). The arithmetic below it is
pure: Decimal in, Decimal out, rounded to the cent with ROUND_HALF_UP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from clients.models import Charge, ChargeKind, Client, Contact, trailing_year_start
from contracts.models import (
    CampaignSettings,
    ContractPlan,
    ConversionOffer,
    ServiceContract,
)
from contracts.services import cents, discounted_price

ZERO = Decimal("0.00")
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
    monthly = discounted_price(list_price, discount_percent)
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
def with_trailing_figures(clients: QuerySet[Client], *, now: dt.datetime) -> QuerySet[Client]:
    """Annotate each client's last twelve months: labour, priority, spend, hours, purchases, tickets.

    Correlated subqueries over (client, occurred_at) index ranges, so this composes with any
    filter and stays one SQL statement.
    """
    since = trailing_year_start(now)
    # Tickets sit in an app above this one; the campaign reads their count by model name, never
    # by importing it (see docs/architecture.md).
    ticket_model = apps.get_model("tickets", "Ticket")

    def ledger(
        condition: Q, aggregate: Sum | Count, field: DecimalField | IntegerField
    ) -> Subquery:
        rows = (
            Charge.objects.filter(condition, client=OuterRef("pk"), occurred_at__gte=since)
            .order_by()
            .values("client")
        )
        return Subquery(rows.annotate(total=aggregate).values("total"), output_field=field)

    labour = Q(kind__in=[ChargeKind.LABOUR, ChargeKind.OVERAGE])
    priority = Q(kind=ChargeKind.PAID_PRIORITY)
    tickets = (
        ticket_model.objects.filter(client=OuterRef("pk"), opened_at__gte=since)
        .order_by()
        .values("client")
        .annotate(n=Count("pk"))
        .values("n")
    )
    zero_money = Value(ZERO, output_field=MONEY)
    zero_count = Value(0, output_field=IntegerField())
    return clients.annotate(
        trailing_labour=Coalesce(ledger(labour, Sum("amount"), MONEY), zero_money),
        trailing_priority=Coalesce(ledger(priority, Sum("amount"), MONEY), zero_money),
        trailing_hours=Coalesce(ledger(labour, Sum("hours"), MONEY), zero_money),
        priority_purchases=Coalesce(ledger(priority, Count("pk"), IntegerField()), zero_count),
        trailing_tickets=Coalesce(Subquery(tickets, output_field=IntegerField()), zero_count),
        trailing_spend=Coalesce(ledger(Q(), Sum("amount"), MONEY), zero_money),
    )


def offerable_clients() -> QuerySet[Client]:
    """Clients an offer may go to: active, transactional, not opted out, none open, reachable."""
    holds_contract = ServiceContract.objects.active().filter(client=OuterRef("pk"))
    open_offer = ConversionOffer.objects.open().filter(client=OuterRef("pk"))
    primary = Contact.objects.primary().filter(client=OuterRef("pk"))
    return (
        Client.objects.active()
        .filter(offers_opt_out=False)
        .filter(~Exists(holds_contract), ~Exists(open_offer), Exists(primary))
        .annotate(
            primary_contact_id=Subquery(primary.values("pk")[:1]),
            primary_email=Subquery(primary.values("email")[:1]),
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
