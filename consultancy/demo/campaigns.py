"""The demo's campaign history: three past runs whose offers were accepted, declined or let
expire, and offers made at a moment of need that are still open, so the conversion funnel has
something in it from the first start.

The offers are drafted by the campaign's own code (offers.drafts) as of each run's moment, so
their replays, kinds and figures are what the campaign would have computed then. The clients
who accept are chosen, before their tickets are drawn, among the clients the demo puts on a
contract: their contract starts the day they accept, so their earlier work is break-fix work.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils import timezone

from clients.models import Charge, ChargeKind, Client, ClientEvent, ClientEventKind, Contact
from consultancy.demo.bulk import bulk_insert
from contracts.models import ContractPlan, ServiceContract
from contracts.services import term_end
from offers import history
from offers.campaign import Fit, replay_months, with_trailing_figures
from offers.drafts import campaign_drafts, draft_all
from offers.models import (
    CampaignRun,
    CampaignSettings,
    CampaignTrigger,
    ConversionOffer,
    OfferSource,
    OfferStatus,
)
from offers.moments import moment_candidates
from offers.services import offer_row
from tickets.models import Ticket

PAST_RUNS = 3
# On the default schedule's day and hour (Mondays 09:00), every 13 weeks: no run falls inside
# the previous one's 90-day cooldown, nor does the next (the demo's dry run), whatever day the
# demo is seeded on.
RUN_EVERY = dt.timedelta(weeks=13)
RUN_TIME = dt.time(9, 0)
CONVERTS_PER_RUN = 3
MOMENT_LOOKBACK = dt.timedelta(days=14)  # the open moment-of-need offers were made this recently
SIGNER_ROLES = ("Owner", "Office manager", "Practice manager", "Managing partner")
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)


def past_run_moments(now: dt.datetime) -> list[dt.datetime]:
    """When the past scheduled runs ran, oldest first: every 13 weeks back, Monday 07:00."""
    today = timezone.localdate(now)
    moments = []
    for k in range(PAST_RUNS, 0, -1):
        day = today - RUN_EVERY * k
        day -= dt.timedelta(days=day.weekday())
        moments.append(timezone.make_aware(dt.datetime.combine(day, RUN_TIME)))
    return moments


def history_span(now: dt.datetime) -> dt.timedelta:
    """How far back the demo's tickets reach: to the first month the oldest run replayed."""
    return now - replay_months(past_run_moments(now)[0])[0].starts_at()


@dataclass(frozen=True)
class Convert:
    """A contract client who started its contract by accepting a past run's offer."""

    contract: ServiceContract
    run: int  # index into past_run_moments()
    accepted_at: dt.datetime


def choose_converts(
    rng: random.Random,
    contracts: list[ServiceContract],
    plans: Sequence[ContractPlan],
    *,
    runs: Sequence[dt.datetime],
) -> list[Convert]:
    """Start a few contracts on the cheapest plan on the day their client accepts a run's offer.

    The cheapest plan because it is the one a break-fix year's replay recommends; whether the
    offer fits is known only once the tickets are drawn (create_campaign_history).
    """
    cheapest = min(plans, key=lambda p: p.monthly_price)
    pool = [c for c in contracts if c.plan_id == cheapest.pk and not c.client.offers_opt_out]
    chosen = rng.sample(pool, min(len(pool), CONVERTS_PER_RUN * len(runs)))
    converts = []
    for i, contract in enumerate(chosen):
        run = i % len(runs)
        # Accepted within the offer's 21 days, in office hours.
        day = timezone.localdate(runs[run]) + dt.timedelta(days=rng.randint(2, 16))
        accepted_at = timezone.make_aware(
            dt.datetime.combine(day, dt.time(rng.randint(9, 16), rng.randint(0, 59)))
        )
        contract.starts_on = day
        contract.ends_on = term_end(day, contract.plan.term_months)
        contract.created_at = accepted_at
        converts.append(Convert(contract=contract, run=run, accepted_at=accepted_at))
    ServiceContract.objects.bulk_update(
        [c.contract for c in converts], ["starts_on", "ends_on", "created_at"]
    )
    return converts


@dataclass
class CampaignHistory:
    runs: list[CampaignRun] = field(default_factory=list)
    offers: list[ConversionOffer] = field(default_factory=list)
    events: list[ClientEvent] = field(default_factory=list)

    @property
    def from_offer(self) -> set[int]:
        """The contracts started by accepting an offer."""
        return {o.contract_id for o in self.offers if o.contract_id is not None}

    def count(self, status: str) -> int:
        return sum(1 for o in self.offers if o.status == status)


def create_campaign_history(
    rng: random.Random,
    *,
    runs: Sequence[dt.datetime],
    converts: list[Convert],
    tickets: list[Ticket],
    charges: list[Charge],
    primary_contact: dict[int, Contact],
    now: dt.datetime,
) -> CampaignHistory:
    """Write the past runs and their answered offers, then the open moment-of-need offers."""
    rules = CampaignSettings.load()
    made = CampaignHistory()
    for k, moment in enumerate(runs):
        # Each run sees the offers of the runs before it (the cooldown, one open offer). A
        # convert was a break-fix client until it accepted: the runs before could offer it too.
        not_yet = [c for c in converts if c.run >= k]
        _past_run(rng, made, k, moment, not_yet, primary_contact, rules)
    _moment_offers(rng, made, tickets, charges, now=now, rules=rules)
    if not any(o.status == OfferStatus.SENT for o in made.offers):
        _offers_sent_by_hand(rng, made, now=now, rules=rules)
    return made


def _past_run(
    rng: random.Random,
    made: CampaignHistory,
    run_index: int,
    moment: dt.datetime,
    converts: list[Convert],
    primary_contact: dict[int, Contact],
    rules: CampaignSettings,
) -> None:
    # The converts hold a contract now, so the campaign's query leaves them out; as of the run
    # they were break-fix clients like the rest, and are drafted the same way.
    contract_of = {c.contract.client_id: c for c in converts}
    convert_drafts, _no_plan = draft_all(
        _qualifying(contract_of, now=moment, rules=rules), now=moment, rules=rules
    )
    candidates = campaign_drafts(now=moment, rules=rules).candidates + convert_drafts
    drafts = [d for d in candidates if d.fit != Fit.NONE][: rules.max_offers_per_run]
    not_offered = [d for d in candidates if d.fit == Fit.NONE]
    run = CampaignRun.objects.create(
        started_at=moment,
        trigger=CampaignTrigger.SCHEDULE,
        eligible_clients=len(candidates),
        offers_created=len(drafts),
        savings_offers=sum(1 for d in drafts if d.fit == Fit.SAVINGS),
        value_offers=sum(1 for d in drafts if d.fit == Fit.VALUE),
        not_offered=len(not_offered),
        not_offered_reasons=dict(Counter(d.verdict.short for d in not_offered)),
    )
    offers = [
        offer_row(d, run=run, source=OfferSource.CAMPAIGN, now=moment, rules=rules) for d in drafts
    ]
    for offer in offers:
        _deliver(rng, offer)
        convert = contract_of.get(offer.client_id)
        if convert is None or convert.run != run_index:
            _answer_or_let_expire(rng, offer)
        elif offer.plan_id == convert.contract.plan_id:
            _accept(rng, offer, convert, primary_contact.get(offer.client_id))
        else:
            # Offered another plan than the one it signed for, it turned the offer down and
            # called in for its contract later.
            _answer_or_let_expire(rng, offer, declined=True)
    made.runs.append(run)
    made.offers += bulk_insert(ConversionOffer, offers)
    made.events += _answer_events(offers)
    ServiceContract.objects.bulk_update(
        [o.contract for o in offers if o.contract is not None],
        ["monthly_price", "discount_percent", "discount_first_term_only"],
    )


def _qualifying(
    contract_of: dict[int, Convert], *, now: dt.datetime, rules: CampaignSettings
) -> QuerySet[Client]:
    """The converts that passed the campaign's thresholds at `now`, annotated as
    eligible_clients() annotates (its contract filter aside)."""
    clients = (
        Client.objects.filter(pk__in=contract_of)
        .alias(primary_contact=FilteredRelation("contacts", condition=Q(contacts__is_primary=True)))
        .filter(primary_contact__isnull=False)
        .annotate(
            primary_contact_id=F("primary_contact__pk"),
            primary_email=F("primary_contact__email"),
        )
    )
    return (
        with_trailing_figures(clients, now=now)
        .filter(
            Q(trailing_spend__gte=rules.min_trailing_spend)
            | Q(trailing_tickets__gte=rules.min_trailing_tickets)
        )
        .order_by("pk")
    )


def _deliver(rng: random.Random, offer: ConversionOffer) -> None:
    """Sent by the send task a few minutes after it was made."""
    offer.claimed_at = offer.created_at + dt.timedelta(minutes=rng.randint(1, 9))
    offer.sent_at = offer.claimed_at + dt.timedelta(seconds=rng.randint(2, 50))
    offer.send_attempts = 1
    offer.status = OfferStatus.SENT


def _opened(rng: random.Random, offer: ConversionOffer, before: dt.datetime) -> dt.datetime:
    assert offer.sent_at is not None
    span = int((before - offer.sent_at).total_seconds() // 60)
    offer.opened_at = offer.sent_at + dt.timedelta(minutes=rng.randint(5, max(span, 6)))
    return offer.opened_at


def _accept(
    rng: random.Random, offer: ConversionOffer, convert: Convert, contact: Contact | None
) -> None:
    """Accepted on its page the day the contract started, at the offered price."""
    accepted_at = convert.accepted_at
    _opened(rng, offer, accepted_at - dt.timedelta(minutes=10))
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = accepted_at
    offer.signer_name = contact.name if contact is not None else ""
    offer.signer_role = rng.choice(SIGNER_ROLES)
    offer.accepted_ip = f"203.0.113.{rng.randint(2, 254)}"
    offer.accepted_user_agent = rng.choice(USER_AGENTS)
    contract = convert.contract
    contract.monthly_price = offer.monthly_price
    contract.discount_percent = offer.discount_percent
    contract.discount_first_term_only = offer.discount_first_term_only
    offer.contract = contract
    _remind_if_unanswered(offer)


def _answer_or_let_expire(
    rng: random.Random, offer: ConversionOffer, *, declined: bool = False
) -> None:
    """About a third opened, most of those declined; the rest lapsed unanswered."""
    roll = rng.random()
    if declined or roll < 0.2:
        answered = _opened(rng, offer, offer.expires_at - dt.timedelta(days=2))
        offer.status = OfferStatus.DECLINED
        offer.responded_at = answered + dt.timedelta(minutes=rng.randint(1, 47 * 60))
    else:
        if roll < 0.35:
            _opened(rng, offer, offer.expires_at)
        offer.status = OfferStatus.EXPIRED
    _remind_if_unanswered(offer)


def _remind_if_unanswered(offer: ConversionOffer) -> None:
    """The reminder task wrote to those still unanswered three days before expiry."""
    reminder = offer.expires_at - dt.timedelta(days=3)
    if offer.responded_at is None or offer.responded_at > reminder:
        offer.reminded_at = reminder


def _answer_events(offers: Iterable[ConversionOffer]) -> list[ClientEvent]:
    """The client's history of its answers (a run's offers are their own record when made)."""
    events = []
    for offer in offers:
        if offer.responded_at is None:
            continue
        if offer.status == OfferStatus.ACCEPTED:
            kind = ClientEventKind.OFFER_ACCEPTED
            summary = history.offer_accepted(offer)
        elif offer.status == OfferStatus.DECLINED:
            kind, summary = ClientEventKind.OFFER_DECLINED, history.offer_declined(offer)
        else:
            continue
        events.append(
            ClientEvent(
                client_id=offer.client_id, kind=kind, summary=summary, at=offer.responded_at
            )
        )
    return bulk_insert(ClientEvent, events)


def _moment_offers(
    rng: random.Random,
    made: CampaignHistory,
    tickets: list[Ticket],
    charges: list[Charge],
    *,
    now: dt.datetime,
    rules: CampaignSettings,
) -> None:
    """The offers the moment-of-need scan made in the last days: sent, some opened, all open."""
    since = now - MOMENT_LOOKBACK
    needs = [
        c.occurred_at
        for c in charges
        if c.kind == ChargeKind.PAID_PRIORITY and since <= c.occurred_at <= now
    ] + [
        t.long_wait_at
        for t in tickets
        if t.long_wait_at is not None
        and since <= t.long_wait_at <= now
        and (t.first_response_at is None or t.first_response_at > t.long_wait_at)
        and (t.resolved_at is None or t.resolved_at > t.long_wait_at)
    ]
    # The scan runs every quarter of an hour; each scan sees the offers the ones before made.
    scans = sorted({_next_quarter(moment) for moment in needs if _next_quarter(moment) <= now})
    for scan in scans:
        drafts, _no_plan = draft_all(
            moment_candidates(now=scan, rules=rules), now=scan, rules=rules
        )
        offers = [
            offer_row(d, run=None, source=OfferSource.MOMENT, now=scan, rules=rules)
            for d in drafts
            if d.fit != Fit.NONE
        ]
        for offer in offers:
            _deliver(rng, offer)
            if offer.sent_at is not None and offer.sent_at >= now:
                # Made this very moment: the send task has not taken it yet.
                offer.status, offer.claimed_at, offer.sent_at = OfferStatus.PENDING, None, None
                offer.send_attempts = 0
            elif rng.random() < 0.4:
                _opened(rng, offer, now)
        _save_offers_made(made, offers, history.offer_moment, at=scan)


def _next_quarter(moment: dt.datetime) -> dt.datetime:
    """The first quarter-hour scan at or after `moment`."""
    floor = moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)
    return floor if floor == moment else floor + dt.timedelta(minutes=15)


HAND_OFFERS = 2


def _offers_sent_by_hand(
    rng: random.Random, made: CampaignHistory, *, now: dt.datetime, rules: CampaignSettings
) -> None:
    """A week with no moment of need still leaves the funnel an open offer: three days ago the
    manager sent a contract offer by hand to the best-ranked clients a contract saves money."""
    sent_at = now - dt.timedelta(days=3)
    drafts = [
        d for d in campaign_drafts(now=sent_at, rules=rules).candidates if d.fit == Fit.SAVINGS
    ][:HAND_OFFERS]
    offers = [
        offer_row(d, run=None, source=OfferSource.MANUAL, now=sent_at, rules=rules) for d in drafts
    ]
    for offer in offers:
        _deliver(rng, offer)
        _opened(rng, offer, now)
    _save_offers_made(made, offers, history.offer_made, at=sent_at)


def _save_offers_made(
    made: CampaignHistory,
    offers: list[ConversionOffer],
    summary: Callable[[ConversionOffer], str],
    *,
    at: dt.datetime,
) -> None:
    """Save offers made outside a run, each with its line in the client's history."""
    made.offers += bulk_insert(ConversionOffer, offers)
    made.events += bulk_insert(
        ClientEvent,
        [
            ClientEvent(
                client_id=o.client_id, kind=ClientEventKind.OFFER_MADE, summary=summary(o), at=at
            )
            for o in offers
        ],
    )
