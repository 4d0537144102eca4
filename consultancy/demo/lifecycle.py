"""The demo's contracts over time: the older ones renewed on their anniversary, a few cancelled.

A practice in its second contract year has clients who signed 13 to 23 months ago. Their first
term ran out and the nightly roll-over renewed it: most at the same price, those whose loyalty
discount was for the first term only at the plan's full price (expansion), and a few moved to a
cheaper plan (contraction). A few clients cancelled during the year, each with a reason (churn).

Every change goes through the contract services (contracts.services.contract_renew and
contract_cancel), on the clock as it read that day, so the terms, their history lines and the
rules they obey are exactly what the live practice would have written. It runs before the
tickets are drawn, so no ticket needs moving between terms.
"""

from __future__ import annotations

import datetime as dt
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from clients.money import discounted
from contracts.models import ContractPlan, ServiceContract
from contracts.services import contract_cancel, contract_renew, term_end

VETERAN_SHARE = 0.25  # of the contracts no campaign started: signed 13 to 23 months ago
FIRST_TERM_ONLY_SHARE = 0.45  # of those, signed with a loyalty discount for the first term only
DOWNGRADE_SHARE = 0.2  # of those on a dearer plan, moved to the next cheaper one at renewal
CANCEL_SHARE = 0.05  # of the running terms, cancelled in the last eight months
ROLL_OVER_TIME = dt.time(2, 15)  # when the nightly roll-over renews a lapsed term
CANCEL_REASONS = (
    "Sold the practice; the new owners bring their own IT provider.",
    "Hired an in-house IT person.",
    "Budget cut after losing their largest customer.",
    "Closed the second office; too little work left for a contract.",
    "Moved to the managed IT package their landlord includes in the lease.",
    "Unhappy with response times during the spring outage.",
)


@contextmanager
def clock_at(moment: dt.datetime) -> Iterator[None]:
    """Run the services as they would have run at `moment` (their timezone.now())."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


class ClientTerms:
    """Each client's terms, oldest first: the one in force on a day, as time_log finds it."""

    def __init__(self, terms: Iterable[ServiceContract]) -> None:
        self._terms: dict[int, list[ServiceContract]] = defaultdict(list)
        for term in sorted(terms, key=lambda t: t.starts_on):
            self._terms[term.client_id].append(term)
        self._starts = {c: [t.starts_on for t in ts] for c, ts in self._terms.items()}

    def __contains__(self, client_id: object) -> bool:
        return client_id in self._terms

    def __len__(self) -> int:
        return sum(len(t) for t in self._terms.values())

    def all(self) -> list[ServiceContract]:
        return [t for ts in self._terms.values() for t in ts]

    def on(self, client_id: int, day: dt.date) -> ServiceContract | None:
        """The client's term covering `day`, or None."""
        terms = self._terms.get(client_id)
        if not terms:
            return None
        i = bisect_right(self._starts[client_id], day) - 1
        if i < 0:
            return None
        term = terms[i]
        return term if term.covers(day) else None


def age_contracts(
    rng: random.Random,
    contracts: list[ServiceContract],
    plans: Sequence[ContractPlan],
    *,
    today: dt.date,
    converts: Iterable[ServiceContract] = (),
) -> ClientTerms:
    """Backdate some contracts a year and more, renew them, cancel a few; return every term.

    The contracts a campaign started (`converts`) keep the story the campaign tells.
    """
    from_campaign = {c.pk for c in converts}
    by_price = sorted(plans, key=lambda p: p.monthly_price)
    pool = [c for c in contracts if c.pk not in from_campaign]
    veterans = rng.sample(pool, _share(VETERAN_SHARE, len(pool)))
    loyal = set(map(id, rng.sample(veterans, _share(FIRST_TERM_ONLY_SHARE, len(veterans)))))
    dearer = [c for c in veterans if c.plan.monthly_price > by_price[0].monthly_price]
    moving = set(map(id, rng.sample(dearer, _share(DOWNGRADE_SHARE, len(dearer)))))
    for contract in veterans:
        # Renewed within the last eleven months: every month of the dashboard's year has some.
        starts_on = today - dt.timedelta(days=rng.randint(395, 700))
        contract.starts_on = starts_on
        contract.ends_on = term_end(starts_on, contract.plan.term_months)
        contract.created_at = timezone.make_aware(dt.datetime.combine(starts_on, dt.time(9, 30)))
        if id(contract) in loyal:
            discount = Decimal(rng.choice(("5", "10", "15")))
            contract.discount_percent = discount
            contract.discount_first_term_only = True
            contract.monthly_price = discounted(contract.plan.monthly_price, discount)
    ServiceContract.objects.bulk_update(
        veterans,
        [
            "starts_on",
            "ends_on",
            "created_at",
            "discount_percent",
            "discount_first_term_only",
            "monthly_price",
        ],
    )
    terms = list(contracts)
    for contract in veterans:
        cheaper = [p for p in by_price if p.monthly_price < contract.plan.monthly_price]
        downgrade = cheaper[-1] if id(contract) in moving else None
        renewal_day = contract.ends_on + dt.timedelta(days=1)
        with clock_at(timezone.make_aware(dt.datetime.combine(renewal_day, ROLL_OVER_TIME))):
            renewed = contract_renew(contract=contract, plan=downgrade)
        _follow(contract, renewed.renewed_from)
        terms.append(renewed)
    _cancel_some(rng, terms, today=today, keep=from_campaign)
    return ClientTerms(terms)


def _cancel_some(
    rng: random.Random, terms: list[ServiceContract], *, today: dt.date, keep: set[int]
) -> None:
    """Cancel a few running terms during the last eight months, each for its reason."""
    running = [t for t in terms if t.ended_at is None and t.pk not in keep]
    quota = _share(CANCEL_SHARE, len(running))
    for term in rng.sample(running, len(running)):
        if quota == 0:
            break
        # Spread evenly over the eight months, three months into the term at the earliest.
        day = today - dt.timedelta(days=rng.randint(10, 240))
        if day < term.starts_on + dt.timedelta(days=90):
            continue
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(rng.randint(9, 16), 20)))
        with clock_at(at):
            cancelled = contract_cancel(contract=term, reason=rng.choice(CANCEL_REASONS))
        _follow(term, cancelled)
        quota -= 1


def _share(share: float, of: int) -> int:
    """How many of `of` make up `share`: at least one where there is one to choose."""
    return min(of, max(1, round(share * of)))


def _follow(term: ServiceContract, saved: ServiceContract | None) -> None:
    """Bring the demo's copy of a term up to what the service saved (the tickets read it)."""
    assert saved is not None
    term.status, term.ended_at, term.end_reason = saved.status, saved.ended_at, saved.end_reason
