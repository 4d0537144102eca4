"""What a campaign would offer each candidate, and why: the drafts a dry run prints, the admin
previews and a run saves. Reads only; offers.services writes."""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from billing.periods import Period
from clients.models import Client
from clients.money import cents, money
from offers.campaign import (
    Fit,
    OfferedPlan,
    Replay,
    Verdict,
    best_replay,
    eligible_clients,
    fit,
    loyalty_discount,
    need_shown,
    offered_plans,
    replay_months,
    usage_of,
)
from offers.models import CampaignSettings, DiscountTerm


@dataclass(frozen=True)
class OfferDraft:
    """What one candidate would be offered, and why (the dry run prints these; a run saves the
    ones that fit)."""

    client: Client
    contact_id: int
    email: str
    replay: Replay
    verdict: Verdict
    need: str
    trailing_labour: Decimal
    trailing_priority: Decimal
    trailing_spend: Decimal
    trailing_hours: Decimal
    trailing_tickets: int
    priority_purchases: int
    first_term_only: bool

    @property
    def fit(self) -> Fit:
        return self.verdict.fit

    @property
    def plan(self) -> OfferedPlan:
        return self.replay.plan

    @property
    def discount_percent(self) -> Decimal:
        return self.replay.discount_percent

    @property
    def replayed_cost(self) -> Decimal:
        return self.replay.cost

    def as_json(self) -> dict[str, object]:
        """The dry run's line for this candidate (run_conversion_campaign --dry-run --json)."""
        return {
            "client_id": self.client.pk,
            "client": self.client.name,
            "plan_id": self.plan.plan_id,
            "kind": str(self.fit),
            "discount_percent": str(self.discount_percent),
            "monthly_price": str(self.replay.monthly_price),
            "trailing_spend": str(self.trailing_spend),
            "replayed_cost": str(self.replayed_cost),
            "monthly": [m.as_json() for m in self.replay.months],
            "need": self.need,
            "reason": self.verdict.reason,
        }


def draft_offer(
    client: Client,
    *,
    plans: Sequence[OfferedPlan],
    rules: CampaignSettings,
    months: Sequence[Period],
    today: dt.date,
    discount: Decimal | None = None,
) -> OfferDraft:
    """Replay the year of a client annotated by with_trailing_figures and offerable_clients
    under every plan, and decide what fits (at `discount`, when the caller worked out the
    client's loyalty discount already)."""
    first_term_only = rules.discount_applies_to == DiscountTerm.FIRST_TERM
    if discount is None:
        discount = loyalty_discount(customer_since=client.customer_since, today=today, rules=rules)
    best = best_replay(
        usage_of(client, months),
        plans,
        discount_percent=discount,
        first_term_only=first_term_only,
    )
    figures: Any = client  # the annotations of with_trailing_figures
    need = need_shown(
        priority_purchases=figures.priority_purchases,
        long_waits=figures.long_waits,
        wait_hours=rules.need_wait_hours,
    )
    spend = cents(figures.trailing_spend)
    return OfferDraft(
        client=client,
        contact_id=figures.primary_contact_id,
        email=figures.primary_email,
        replay=best,
        verdict=fit(
            spend=spend,
            cost=best.cost,
            need=need,
            max_premium_percent=rules.max_savings_premium_percent,
            max_value_premium_percent=rules.max_value_premium_percent,
        ),
        need=need,
        trailing_labour=cents(figures.trailing_labour),
        trailing_priority=cents(figures.trailing_priority),
        trailing_spend=spend,
        trailing_hours=figures.trailing_hours,
        trailing_tickets=figures.trailing_tickets,
        priority_purchases=figures.priority_purchases,
        first_term_only=first_term_only,
    )


NO_PLAN_OFFERED = "No plan is offered; mark at least one plan as offered."


def draft_one(candidate: Client, *, rules: CampaignSettings, now: dt.datetime) -> OfferDraft | None:
    """What one candidate (annotated by with_trailing_figures and offerable_clients) would be
    offered as of `now`, and why; None when no plan is offered (NO_PLAN_OFFERED says so)."""
    plans = offered_plans()
    if not plans:
        return None
    return draft_offer(
        candidate,
        plans=plans,
        rules=rules,
        months=replay_months(now),
        today=timezone.localdate(now),
    )


@dataclass(frozen=True)
class CampaignDraft:
    """What a run would do: every candidate, best-ranked first, with what fits it; the offers
    are the candidates that fit, up to the per-run cap."""

    candidates: list[OfferDraft]
    cap: int
    no_plan_offered: bool = False
    # Who qualified when no plan could be replayed (they wait for a plan to be offered).
    qualified_without_plan: int = 0

    @property
    def eligible(self) -> int:
        return self.qualified_without_plan if self.no_plan_offered else len(self.candidates)

    @property
    def offers(self) -> list[OfferDraft]:
        return [d for d in self.candidates if d.fit != Fit.NONE][: self.cap]

    @property
    def not_offered(self) -> list[OfferDraft]:
        return [d for d in self.candidates if d.fit == Fit.NONE]

    @property
    def capped(self) -> bool:
        """Whether the per-run cap, not the rules, left candidates that fit out."""
        return sum(1 for d in self.candidates if d.fit != Fit.NONE) > self.cap

    def count(self, fit_: Fit) -> int:
        return sum(1 for d in self.offers if d.fit == fit_)

    def reasons(self) -> dict[str, int]:
        """Why candidates got no offer, by the rule that stopped them: reason -> clients."""
        return dict(Counter(d.verdict.short for d in self.not_offered))


def campaign_preview(*, now: dt.datetime | None = None) -> CampaignDraft:
    """Return who a campaign run would offer what, best-ranked first; writes nothing."""
    now = now or timezone.now()
    return campaign_drafts(now=now, rules=CampaignSettings.load())


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a campaign reads and drafts its candidates.

    Drafting 10,000 candidates makes some 150,000 small objects that live until the run ends, and
    counting them the collector ran full collections over the whole process again and again: a
    third of the drafting's CPU (125 of 390 ms at 50,000 clients, docs/performance.md).
    Reference counting frees objects as usual meanwhile; any cycle made is collected when the
    collector runs again. Process-wide, so it is switched back on only if it was on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def draft_all(
    clients: Iterable[Client], *, now: dt.datetime, rules: CampaignSettings
) -> tuple[list[OfferDraft], bool]:
    with collector_paused():
        return _draft_all(clients, now=now, rules=rules)


def _draft_all(
    clients: Iterable[Client], *, now: dt.datetime, rules: CampaignSettings
) -> tuple[list[OfferDraft], bool]:
    plans = offered_plans()
    if not plans:
        return [], True
    months = replay_months(now)
    today = timezone.localdate(now)
    # One discount per customer-since date, and the same Decimal each time: the replay looks its
    # fees up by the discount, and a Decimal computes its hash once.
    discounts: dict[dt.date, Decimal] = {}

    def discount_of(client: Client) -> Decimal:
        found = discounts.get(client.customer_since)
        if found is None:
            found = discounts[client.customer_since] = loyalty_discount(
                customer_since=client.customer_since, today=today, rules=rules
            )
        return found

    return [
        draft_offer(
            c, plans=plans, rules=rules, months=months, today=today, discount=discount_of(c)
        )
        for c in clients
    ], False


def campaign_drafts(*, now: dt.datetime, rules: CampaignSettings) -> CampaignDraft:
    eligible = eligible_clients(now=now, rules=rules)
    candidates, no_plan = draft_all(eligible, now=now, rules=rules)
    if no_plan:
        return CampaignDraft(
            candidates=[],
            cap=rules.max_offers_per_run,
            no_plan_offered=True,
            qualified_without_plan=eligible.count(),
        )
    return CampaignDraft(candidates=candidates, cap=rules.max_offers_per_run)


def verdict_words(draft: OfferDraft) -> str:
    """The replay against the spend in a few words, as the dry run and the admin preview show it."""
    difference = draft.replayed_cost - draft.trailing_spend
    if difference <= 0:
        return f"saves {money(-difference)}"
    return f"costs {money(difference)} more ({money(difference / 12)}/mo)"
