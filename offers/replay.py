"""The replay: a client's twelve whole months re-billed under a plan, month by month, with the
billing run's own rule (billing.pricing.contract_month), and whether the result fits the client.
Pure: Decimal in, Decimal out, no ORM."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import NamedTuple

from django.utils import timezone

from billing.periods import Period
from billing.pricing import ContractMonth, contract_month, included_minutes
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
    # The replay's fees of this plan by (discount, first term only), filled as they are asked for.
    fees: dict[tuple[Decimal, bool], tuple[tuple[Decimal, ...], Decimal]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @functools.cached_property
    def allowance(self) -> int:
        """The included minutes of a whole month (billing's rule)."""
        return included_minutes(self.included_hours, 1, 1)


# MonthUsage and ReplayMonth are named tuples rather than frozen dataclasses: a campaign makes
# twelve of each per candidate, and a tuple is made five times faster.
class MonthUsage(NamedTuple):
    """One month of a client's pay-per-job year: the hours of work and what it paid for them
    (labour, overage and paid priority: what a contract replaces)."""

    month: Period
    minutes: int
    paid: Decimal


class ReplayMonth(NamedTuple):
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
    """A client's year re-billed under one plan at its discounted price, month by month.

    The months are priced when first asked for: a campaign compares every candidate's total
    under every plan, but only the offers it makes keep the month-by-month statement.
    """

    plan: OfferedPlan
    discount_percent: Decimal
    usage: tuple[MonthUsage, ...]
    first_term_only: bool
    cost: Decimal  # the twelve months together
    overage_months: int

    @property
    def monthly_price(self) -> Decimal:
        """The first month's fee: the discounted price."""
        return _month_fees(self.plan, self.discount_percent, self.first_term_only)[0][0]

    @property
    def months(self) -> tuple[ReplayMonth, ...]:
        fees, _ = _month_fees(self.plan, self.discount_percent, self.first_term_only)
        allowance = self.plan.allowance
        return tuple(
            ReplayMonth(
                used.month,
                used.minutes,
                used.paid,
                fee,
                ZERO
                if used.minutes <= allowance
                else _beyond(fee, self.plan, used.minutes).overage,
            )
            for fee, used in zip(fees, self.usage, strict=True)
        )

    @property
    def paid(self) -> Decimal:
        return sum((m.paid for m in self.usage), ZERO)


# A campaign replays every candidate's twelve months under every plan: 360,000 month prices for
# 10,000 candidates. A month within the plan's included hours costs its fee alone; the others
# repeat the same (fee, minutes) pairs across clients, so they are priced once each. Big enough
# for every minute up to a day beyond the allowance, at every discount level, of three plans.
MONTH_COSTS_CACHED = 1 << 16


@functools.lru_cache(maxsize=MONTH_COSTS_CACHED)
def _priced(
    monthly_price: Decimal, included_hours: Decimal, overage_rate: Decimal, minutes: int
) -> ContractMonth:
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
) -> tuple[tuple[Decimal, ...], Decimal]:
    """The fee billed for each replayed month, and their sum: discounted, except after the first
    term when the discount is for the first term only. Kept on the plan: every candidate with
    the same discount asks again."""
    key = (discount_percent, first_term_only)
    found = plan.fees.get(key)
    if found is None:
        found = plan.fees[key] = _fees_of(plan, discount_percent, first_term_only)
    return found


def _fees_of(
    plan: OfferedPlan, discount_percent: Decimal, first_term_only: bool
) -> tuple[tuple[Decimal, ...], Decimal]:
    discounted_price = discounted(plan.monthly_price, discount_percent)
    fees = tuple(
        _priced(
            plan.monthly_price if first_term_only and i >= plan.term_months else discounted_price,
            plan.included_hours,
            plan.overage_rate,
            plan.allowance,
        ).fee
        for i in range(REPLAY_MONTHS)
    )
    return fees, sum(fees, ZERO)


def _beyond(fee: Decimal, plan: OfferedPlan, minutes: int) -> ContractMonth:
    """A whole month of `minutes` of work, more than the plan includes, priced by billing's rule.
    A month within the included hours costs its fee alone (billing's rule too, so the callers
    skip the call for those months)."""
    return _priced(fee, plan.included_hours, plan.overage_rate, minutes)


def _total(
    usage: Sequence[MonthUsage], plan: OfferedPlan, discount_percent: Decimal, first_term_only: bool
) -> tuple[Decimal, int]:
    fees, total = _month_fees(plan, discount_percent, first_term_only)
    allowance, overage_months = plan.allowance, 0
    for fee, used in zip(fees, usage, strict=True):
        if used.minutes > allowance:
            overage = _beyond(fee, plan, used.minutes).overage
            total += overage
            overage_months += overage > 0
    return total, overage_months


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
    cost, overage_months = _total(usage, plan, discount_percent, first_term_only)
    return Replay(plan, discount_percent, tuple(usage), first_term_only, cost, overage_months)


def best_replay(
    usage: Sequence[MonthUsage],
    plans: Sequence[OfferedPlan],
    *,
    discount_percent: Decimal,
    first_term_only: bool = True,
) -> Replay:
    """The plan whose replay costs least; ties go to fewer months with overage, then the lower
    list price. Only the totals are compared; the winner's months are priced when shown."""
    if not plans:
        raise ValueError("no plans are offered")

    def rank(plan: OfferedPlan) -> tuple[Decimal, int, Decimal, int]:
        cost, overage_months = _total(usage, plan, discount_percent, first_term_only)
        return cost, overage_months, plan.monthly_price, plan.plan_id

    (cost, overage_months, *_), best = min(
        ((rank(p), i) for i, p in enumerate(plans)), key=lambda ranked: ranked[0]
    )
    return Replay(
        plans[best], discount_percent, tuple(usage), first_term_only, cost, overage_months
    )


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
