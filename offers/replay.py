"""The replay: a client's twelve whole months re-billed under a plan, month by month, with the
billing run's own rule (billing.pricing.contract_month), and whether the result fits the client.
Pure: Decimal in, Decimal out, no ORM."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import partial
from typing import NamedTuple, overload

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
    # The overage of a whole month by its minutes of work, filled as they are asked for.
    overages: dict[int, Decimal] = field(default_factory=dict, compare=False, repr=False)

    @functools.cached_property
    def allowance(self) -> int:
        """The included minutes of a whole month (billing's rule)."""
        return included_minutes(self.included_hours, 1, 1)

    def overage_for(self, minutes: int) -> Decimal:
        """The overage of a whole month of `minutes` of work, by billing's rule. It depends on the
        minutes alone (the fee is not in it), so it is kept per plan by minutes: a campaign asks
        for the same few hundred values 100,000 times."""
        found = self.overages.get(minutes)
        if found is None:
            found = self.overages[minutes] = _beyond(self.monthly_price, self, minutes).overage
        return found


# MonthUsage and ReplayMonth are named tuples rather than frozen dataclasses: a campaign makes
# twelve of each per candidate, and a tuple is made five times faster.
class MonthUsage(NamedTuple):
    """One month of a client's pay-per-job year: the hours of work and what it paid for them
    (labour, overage and paid priority: what a contract replaces)."""

    month: Period
    minutes: int
    paid: Decimal


class YearUsage(Sequence[MonthUsage]):
    """A client's twelve months as MonthUsage, kept as the minutes and the amounts paid the way
    the database summed them (None for nothing), and made into MonthUsage, the amounts rounded
    to the cent, only when read: the replay compares totals from the minutes alone, and only
    the offers a campaign makes show their months."""

    __slots__ = ("minutes", "months", "summed")

    def __init__(
        self,
        months: Sequence[Period],
        minutes: Sequence[int],
        summed: Sequence[Decimal | int | None],
    ) -> None:
        self.months, self.minutes, self.summed = months, tuple(minutes), summed

    @property
    def paid(self) -> tuple[Decimal, ...]:
        return tuple(cents(amount) if amount else ZERO for amount in self.summed)

    @overload
    def __getitem__(self, index: int) -> MonthUsage: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[MonthUsage]: ...
    def __getitem__(self, index: int | slice) -> MonthUsage | Sequence[MonthUsage]:
        return list(self)[index]

    def __iter__(self) -> Iterator[MonthUsage]:
        return map(MonthUsage, self.months, self.minutes, self.paid)

    def __len__(self) -> int:
        return len(self.minutes)


def _minutes_of(usage: Sequence[MonthUsage]) -> tuple[int, ...]:
    if isinstance(usage, YearUsage):
        return usage.minutes
    return tuple(used.minutes for used in usage)


class ReplayMonth(NamedTuple):
    month: Period
    minutes: int
    paid: Decimal
    fee: Decimal
    overage: Decimal

    @property
    def hours(self) -> Decimal:
        return _hours(self.minutes)

    @property
    def cost(self) -> Decimal:
        return self.fee + self.overage

    @property
    def label(self) -> str:
        return self.month.label

    def as_json(self) -> dict[str, str]:
        return {
            "month": _month_text(self.month),
            "hours": _hours_text(self.minutes),
            "paid": str(self.paid),
            "fee": str(self.fee),
            "overage": str(self.overage),
            "cost": str(self.cost),
        }


# A campaign writes twelve months into each of its offers' statements (120,000 for 10,000 offers);
# the months are the same twelve, and the hours a few thousand values.
@functools.lru_cache(maxsize=4096)
def _hours(minutes: int) -> Decimal:
    return cents(Decimal(minutes) / 60)


@functools.lru_cache(maxsize=4096)
def _hours_text(minutes: int) -> str:
    return str(_hours(minutes))


@functools.lru_cache(maxsize=64)
def _month_text(month: Period) -> str:
    return str(month)


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
    usage: Sequence[MonthUsage]
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
                ZERO if used.minutes <= allowance else self.plan.overage_for(used.minutes),
            )
            for fee, used in zip(fees, self.usage, strict=True)
        )

    @property
    def paid(self) -> Decimal:
        if isinstance(self.usage, YearUsage):
            return sum(self.usage.paid, ZERO)
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
    minutes: Sequence[int], plan: OfferedPlan, discount_percent: Decimal, first_term_only: bool
) -> tuple[Decimal, int]:
    """The replay's cost (every month's fee, plus the overage of the months beyond the included
    hours) and how many months had overage. The overage of a month does not depend on its fee,
    so the loop needs the minutes alone: it runs 360,000 times in a campaign of 10,000."""
    _, total = _month_fees(plan, discount_percent, first_term_only)
    allowance, overages, overage_months = plan.allowance, plan.overages, 0
    for worked in minutes:
        if worked > allowance:
            overage = overages.get(worked)
            if overage is None:
                overage = plan.overage_for(worked)
            if overage:
                total += overage
                overage_months += 1
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
    cost, overage_months = _total(_minutes_of(usage), plan, discount_percent, first_term_only)
    kept = usage if isinstance(usage, YearUsage) else tuple(usage)
    return Replay(plan, discount_percent, kept, first_term_only, cost, overage_months)


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
    minutes = _minutes_of(usage)
    best: tuple[Decimal, int, Decimal, int] | None = None
    chosen = plans[0]
    for plan in plans:
        cost, overage_months = _total(minutes, plan, discount_percent, first_term_only)
        rank = (cost, overage_months, plan.monthly_price, plan.plan_id)
        if best is None or rank < best:
            best, chosen = rank, plan
    assert best is not None
    kept = usage if isinstance(usage, YearUsage) else tuple(usage)
    return Replay(chosen, discount_percent, kept, first_term_only, best[0], best[1])


class Fit(StrEnum):
    """What a candidate is offered: a saving, a premium for value, or nothing."""

    SAVINGS = "savings"
    VALUE = "value"
    NONE = "none"


class Verdict:
    """What fits a client, and why: `reason` is for the manager, with the figures; `short` is the
    rule that decided, the same for every client it decides.

    The reason may be given as a function that words it: a campaign decides for every candidate,
    but a manager reads the reasons of a page of them, and wording one takes as long as the rest
    of the decision.
    """

    __slots__ = ("_reason", "fit", "short")

    def __init__(self, fit: Fit, reason: str | Callable[[], str], short: str = "") -> None:
        self.fit, self.short, self._reason = fit, short, reason

    @property
    def reason(self) -> str:
        if not isinstance(self._reason, str):
            self._reason = self._reason()
        return self._reason

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return (self.fit, self.reason, self.short) == (other.fit, other.reason, other.short)

    def __hash__(self) -> int:
        return hash((self.fit, self.short))

    def __repr__(self) -> str:
        return f"Verdict({self.fit!r}, {self.reason!r}, {self.short!r})"


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
        return Verdict(
            Fit.SAVINGS,
            partial(_savings_reason, spend, cost, max_premium_percent),
            "fits as a saving",
        )
    if not need:
        return Verdict(
            Fit.NONE,
            partial(_no_need_reason, spend, cost, max_premium_percent),
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
            partial(_value_limit_reason, spend, cost, need, max_value_premium_percent or 0),
            "needs faster service, but costs more than a value offer may",
        )
    return Verdict(
        Fit.VALUE,
        partial(_value_reason, spend, cost, need, cents(difference / REPLAY_MONTHS)),
        "costs more; need for faster service shown",
    )


def _more(spend: Decimal, cost: Decimal) -> str:
    return (
        f"it would have cost {money(cost)}, {money(cost - spend)} more than the {money(spend)} paid"
    )


def _savings_reason(spend: Decimal, cost: Decimal, max_premium_percent: Decimal) -> str:
    difference = cost - spend
    if difference <= 0:
        said = f"it would have cost {money(cost)}, {money(-difference)} less than the {money(spend)} paid"
    else:
        said = (
            f"{_more(spend, cost)}, within the {percent(max_premium_percent)} a savings "
            "offer may carry"
        )
    return f"Savings: {said}."


def _no_need_reason(spend: Decimal, cost: Decimal, max_premium_percent: Decimal) -> str:
    return (
        f"No offer: {_more(spend, cost)}, above the {percent(max_premium_percent)} a savings "
        "offer may carry, and the client showed no need for faster service."
    )


def _value_limit_reason(
    spend: Decimal, cost: Decimal, need: str, max_value_premium_percent: Decimal | int
) -> str:
    return (
        f"No offer: {_more(spend, cost)}, above the {percent(max_value_premium_percent)} a value "
        f"offer may carry, though the client {need}."
    )


def _value_reason(spend: Decimal, cost: Decimal, need: str, monthly: Decimal) -> str:
    return f"Value: {_more(spend, cost)} ({money(monthly)} a month), and the client {need}."
