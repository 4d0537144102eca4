"""The moment of need: offers made to clients who just showed they need faster service (bought
paid priority, or a ticket waited too long for a first response), every 15 minutes."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from clients.models import Charge, ChargeKind, Client, ClientEventKind
from clients.services import client_event_record
from offers import history
from offers.campaign import (
    Fit,
    long_waits,
    not_recently_offered,
    offerable_clients,
    with_trailing_figures,
)
from offers.drafts import draft_all
from offers.models import CampaignSettings, OfferSource
from offers.services import announce_after_commit, lock_campaign_rules, make_offers

# How far back the moment-of-need scan looks for a purchase or a long wait: it runs every 15
# minutes, so an hour would do; a day lets it catch up after a stopped worker or beat.
MOMENT_LOOKBACK = dt.timedelta(hours=24)


def moment_candidates(*, now: dt.datetime, rules: CampaignSettings) -> QuerySet[Client]:
    """Offerable clients past the cooldown who bought paid priority, or whose ticket waited too
    long for a first response, within the lookback."""
    since = now - MOMENT_LOOKBACK
    bought = Charge.objects.filter(
        client=OuterRef("pk"),
        kind=ChargeKind.PAID_PRIORITY,
        occurred_at__gte=since,
        occurred_at__lte=now,
    )
    waited = long_waits(since=now - dt.timedelta(days=365), now=now).filter(
        client=OuterRef("pk"), long_wait_at__gte=since
    )
    return with_trailing_figures(
        not_recently_offered(offerable_clients(), now=now, rules=rules).filter(
            Q(Exists(bought)) | Q(Exists(waited))
        ),
        now=now,
    ).order_by("pk")


@transaction.atomic
def moment_offers(*, now: dt.datetime | None = None) -> list[int]:
    """Offer a contract to clients who showed their need in the last moments, where one fits.

    The same rules as a campaign (opt-out, one open offer, the cooldown, fit) but no spend or
    ticket threshold: the need is the reason. Run again (a retried task, the next scan), it finds
    the offers it made open and inside the cooldown, so it never offers anyone twice.
    """
    now = now or timezone.now()
    rules = lock_campaign_rules()
    if not rules.moment_offers:
        return []
    drafts, _no_plan = draft_all(moment_candidates(now=now, rules=rules), now=now, rules=rules)
    fitting = [d for d in drafts if d.fit != Fit.NONE]
    offers = make_offers(fitting, run=None, source=OfferSource.MOMENT, now=now, rules=rules)
    for offer in offers:
        client_event_record(
            client=offer.client,
            kind=ClientEventKind.OFFER_MADE,
            summary=history.offer_moment(offer),
            at=now,
        )
    announce_after_commit([o.pk for o in offers])
    return [o.pk for o in offers]
