"""What a campaign would do about one client now, and why: the client page's word on offers.

The campaign's own rules and words, asked for one client: who may be offered at all
(`offerable_clients`, and `offer_refusal` for why not), the cooldown, the thresholds, and the
replay's verdict as the run and its preview word it (`draft_one`). Reads only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from clients.models import Client
from clients.money import money
from offers.campaign import Fit, offerable_clients, with_trailing_figures
from offers.drafts import NO_PLAN_OFFERED, draft_one
from offers.models import CampaignSettings, ConversionOffer
from offers.services import offer_refusal


@dataclass(frozen=True)
class Outlook:
    """Whether the next campaign run would offer the client a contract, and the reason."""

    qualifies: bool
    reason: str


def _tickets(count: int) -> str:
    return "1 ticket" if count == 1 else f"{count} tickets"


def campaign_outlook(client: Client, *, now: dt.datetime | None = None) -> Outlook:
    """What the next campaign run would decide for `client`, as of `now`.

    A fixed handful of queries, whatever the client holds: whether it may be offered at all
    (and if not, the refusal's checks), then the rules, one aggregate of its year (the
    campaign's own), the last offer's date and the offered plans.
    """
    now = now or timezone.now()
    offerable = offerable_clients().filter(pk=client.pk)
    # Asked on its own first: the year's aggregate has some thirty FILTER clauses, and building
    # it costs the ORM more than a page of a client who may not be offered at all can spare.
    candidate = offerable.exists() and with_trailing_figures(offerable, now=now).first()
    if not candidate:
        return Outlook(
            False, f"A campaign would not offer {client} a contract: {offer_refusal(client)}"
        )
    rules = CampaignSettings.load()
    last_offered = (
        ConversionOffer.objects.for_client(client.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last_offered is not None:
        cooldown_ends = last_offered + dt.timedelta(days=rules.cooldown_days)
        if cooldown_ends > now:
            return Outlook(
                False,
                f"Not yet: it was offered a contract on "
                f"{timezone.localtime(last_offered):%-d %B %Y}, and a campaign waits "
                f"{rules.cooldown_days} days between offers (until "
                f"{timezone.localtime(cooldown_ends):%-d %B %Y}).",
            )
    figures = candidate.__dict__  # the annotations of with_trailing_figures
    spend, tickets = figures["trailing_spend"], figures["trailing_tickets"]
    if spend < rules.min_trailing_spend and tickets < rules.min_trailing_tickets:
        return Outlook(
            False,
            f"Below the campaign's thresholds: {money(spend)} spent and {_tickets(tickets)} "
            f"in the last twelve whole months, where a campaign needs "
            f"{money(rules.min_trailing_spend)} or {_tickets(rules.min_trailing_tickets)}.",
        )
    if (draft := draft_one(candidate, rules=rules, now=now)) is None:
        return Outlook(False, NO_PLAN_OFFERED)
    return Outlook(draft.fit != Fit.NONE, draft.verdict.reason)
