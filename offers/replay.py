"""The replay: a client's twelve whole months re-billed under a plan, month by month, with the
billing run's own rule (billing.pricing.contract_month), and whether the result fits the client.
Pure: Decimal in, Decimal out, no ORM."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from django.utils import timezone

from billing.periods import Period
from billing.pricing import ContractMonth, contract_month
from clients.money import ZERO, cents, discounted, money, percent

REPLAY_MONTHS = 12


def replay_months(now: dt.datetime) -> list[Period]:
    """The last twelve whole calendar months before `now`'s month, oldest first."""
    last = Period.last_closed(timezone.localdate(now))
    months = [last]
    while len(months) < REPLAY_MONTHS:
        months.append(months[-1].previous)
    return months[::-1]


@dataclass(frozen=True)
class OfferedPlan:
    """What the replay needs to know about a plan (no ORM)."""

    plan_id: int
    monthly_price: Decimal
    included_hours: Decimal
    overage_rate: Decimal
    term_months: int = 12
    terms_id: int | None = None


@dataclass(frozen=True)
class MonthUsage:
    """One month of a client's pay-per-job year: the hours of work and what it paid for them
    (labour, overage and paid priority: what a contract replaces)."""

    month: Period
    minutes: int
    paid: Decimal


@dataclass(frozen=True)
class ReplayMonth:
    month: Period
    minutes: int
    paid: Decimal
    fee: Decimal
    overage: Decimal

    @property
    def hours(self) -> Decimal:
        return cents(Decimal(self.minutes) / 60)

    @property
    def cost(self) -> Decimal:
        return self.fee + self.overage

    @property
    def label(self) -> str:
        return self.month.label

    def as_json(self) -> dict[str, str]:
        return {
            "month": str(self.month),
            "hours": str(self.hours),
            "paid": str(self.paid),
            "fee": str(self.fee),
            "overage": str(self.overage),
            "cost": str(self.cost),
        }


def statement_of(monthly: Sequence[dict[str, str]]) -> list[ReplayMonth]:
    """The replay an offer stored (ConversionOffer.monthly, ReplayMonth.as_json), read back."""
    return [
        ReplayMonth(
            month=Period.parse(m["month"]),
            minutes=int((Decimal(m["hours"]) * 60).to_integral_value(ROUND_HALF_UP)),
            paid=Decimal(m["paid"]),
            fee=Decimal(m["fee"]),
            overage=Decimal(m["overage"]),
        )
        for m in monthly
    ]


@dataclass(frozen=True)
class Replay:
    """A client's year re-billed under one plan at its discounted price, month by month."""

    plan: OfferedPlan
    discount_percent: Decimal
    monthly_price: Decimal
    months: tuple[ReplayMonth, ...]

    @property
    def cost(self) -> Decimal:
        return sum((m.cost for m in self.months), ZERO)

    @property
    def paid(self) -> Decimal:
        return sum((m.paid for m in self.months), ZERO)

    @property
    def overage_months(self) -> int:
        return sum(1 for m in self.months if m.overage > 0)


@functools.lru_cache(maxsize=4096)
def _month_cost(
    monthly_price: Decimal, included_hours: Decimal, overage_rate: Decimal, minutes: int
) -> ContractMonth:
    # Pure and called for every client, plan and month: a campaign's clients share few distinct
    # (plan, minutes) pairs, so the cache answers most of them.
    return contract_month(
        monthly_price=monthly_price,
        included_hours=included_hours,
        overage_rate=overage_rate,
        worked_minutes=minutes,
        days_covered=1,
        days_in_month=1,
    )


def _month_fees(
    plan: OfferedPlan, discount_percent: Decimal, first_term_only: bool
) -> list[Decimal]:
    """The monthly fee of each replayed month: discounted, except after the first term when
    the discount is for the first term only."""
    discounted_price = discounted(plan.monthly_price, discount_percent)
    return [
        plan.monthly_price if first_term_only and i >= plan.term_months else discounted_price
        for i in range(REPLAY_MONTHS)
    ]


def replay(
    usage: Sequence[MonthUsage],
    plan: OfferedPlan,
    *,
    discount_percent: Decimal,
    first_term_only: bool = True,
) -> Replay:
    """Re-bill `usage` under `plan`, month by month, with billing's own rule for a contract month
    (billing.pricing.contract_month): the fee, plus the hours beyond the included hours at the
    plan's overage rate. Paid priority has no cost under a contract: its tickets come first."""
    fees = _month_fees(plan, discount_percent, first_term_only)
    months = []
    for fee, used in zip(fees, usage, strict=True):
        priced = _month_cost(fee, plan.included_hours, plan.overage_rate, used.minutes)
        months.append(
            ReplayMonth(
                month=used.month,
                minutes=used.minutes,
                paid=used.paid,
                fee=priced.fee,
                overage=priced.overage,
            )
        )
    return Replay(
        plan=plan,
        discount_percent=discount_percent,
        monthly_price=fees[0],
        months=tuple(months),
    )


def best_replay(
    usage: Sequence[MonthUsage],
    plans: Sequence[OfferedPlan],
    *,
    discount_percent: Decimal,
    first_term_only: bool = True,
) -> Replay:
    """The plan whose replay costs least; ties go to fewer months with overage, then the lower
    list price. Only the totals are compared (from the cached month costs); the winner alone is
    replayed month by month."""
    if not plans:
        raise ValueError("no plans are offered")

    def rank(plan: OfferedPlan) -> tuple[Decimal, int, Decimal, int]:
        fees = _month_fees(plan, discount_percent, first_term_only)
        total, overage_months = ZERO, 0
        for fee, used in zip(fees, usage, strict=True):
            priced = _month_cost(fee, plan.included_hours, plan.overage_rate, used.minutes)
            total += priced.total
            overage_months += priced.overage > 0
        return total, overage_months, plan.monthly_price, plan.plan_id

    best = min(plans, key=rank)
    return replay(usage, best, discount_percent=discount_percent, first_term_only=first_term_only)


class Fit(StrEnum):
    """What a candidate is offered: a saving, a premium for value, or nothing."""

    SAVINGS = "savings"
    VALUE = "value"
    NONE = "none"


@dataclass(frozen=True)
class Verdict:
    fit: Fit
    reason: str  # for the manager, with the figures
    short: str = ""  # the rule that decided, the same for every client it decides


def need_shown(*, priority_purchases: int, long_waits: int, wait_hours: int) -> str:
    """The need for faster service a client showed in the year, in words ("" for none)."""
    needs = []
    if priority_purchases:
        times = "once" if priority_purchases == 1 else f"{priority_purchases} times"
        needs.append(f"bought paid priority {times}")
    if long_waits:
        tickets = "a ticket" if long_waits == 1 else f"{long_waits} tickets"
        needs.append(f"waited over {wait_hours} business hours for a first response on {tickets}")
    return " and ".join(needs)


def fit(
    *,
    spend: Decimal,
    cost: Decimal,
    need: str,
    max_premium_percent: Decimal,
    max_value_premium_percent: Decimal | None = None,
) -> Verdict:
    """Whether a contract that would have cost `cost` fits a client that paid `spend`.

    A savings offer only where the contract costs no more than the spend plus the largest premium
    the campaign allows; else a value offer, stating the honest premium, if the client showed a
    need for faster service and the premium is within what a value offer may carry (None: no
    limit, a manager's own decision); else nothing. The reason is for the manager.
    """
    limit = cents(spend * (1 + max_premium_percent / 100))
    difference = cost - spend
    if cost <= limit:
        if difference <= 0:
            said = f"it would have cost {money(cost)}, {money(-difference)} less than the {money(spend)} paid"
        else:
            said = (
                f"it would have cost {money(cost)}, {money(difference)} more than the "
                f"{money(spend)} paid, within the {percent(max_premium_percent)} a savings "
                "offer may carry"
            )
        return Verdict(Fit.SAVINGS, f"Savings: {said}.", "fits as a saving")
    more = (
        f"it would have cost {money(cost)}, {money(difference)} more than the {money(spend)} paid"
    )
    if not need:
        return Verdict(
            Fit.NONE,
            f"No offer: {more}, above the {percent(max_premium_percent)} a savings offer may "
            "carry, and the client showed no need for faster service.",
            "costs more than it paid; no need for faster service shown",
        )
    value_limit = (
        None
        if max_value_premium_percent is None
        else cents(spend * (1 + max_value_premium_percent / 100))
    )
    if value_limit is not None and cost > value_limit:
        return Verdict(
            Fit.NONE,
            f"No offer: {more}, above the {percent(max_value_premium_percent or 0)} a value "
            f"offer may carry, though the client {need}.",
            "needs faster service, but costs more than a value offer may",
        )
    monthly = cents(difference / REPLAY_MONTHS)
    return Verdict(
        Fit.VALUE,
        f"Value: {more} ({money(monthly)} a month), and the client {need}.",
        "costs more; need for faster service shown",
    )
