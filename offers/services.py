"""Writes for conversion offers: campaign runs, one-off offers, acceptance, decline, opt-out,
reminders and expiry. Each is one transaction; emails leave after commit: the offers through
offers.signals and the send tasks, the acceptance notes through the outbox (clients/outbox.py)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from clients.audit import history_baseline, record_change
from clients.models import Client, ClientEventKind
from clients.money import cents
from clients.services import client_event_record
from contracts.models import ServiceContract
from contracts.services import ContractError, contract_start, plan_terms_set
from offers import history
from offers.campaign import (
    Fit,
    Verdict,
    not_recently_offered,
    offerable_clients,
    with_trailing_figures,
)
from offers.delivery import stale_claim_age
from offers.drafts import (
    NO_PLAN_OFFERED,
    OfferDraft,
    campaign_drafts,
    collector_paused,
    draft_one,
)
from offers.mailings import acceptance_emails_write
from offers.models import (
    SIGNER_MAX_LENGTH,
    CampaignRun,
    CampaignSettings,
    CampaignTrigger,
    ConversionOffer,
    OfferKind,
    OfferSource,
    OfferStatus,
)
from offers.signals import offers_made

if TYPE_CHECKING:
    from clients.services import Actor

log = logging.getLogger(__name__)


class OfferError(Exception):
    """An offer change the rules do not allow; the message is for the person who asked."""


def offer_row(
    draft: OfferDraft,
    *,
    run: CampaignRun | None,
    source: str,
    now: dt.datetime,
    rules: CampaignSettings,
) -> ConversionOffer:
    replayed = draft.replay
    return ConversionOffer(
        client=draft.client,
        contact_id=draft.contact_id,
        email=draft.email,
        plan_id=draft.plan.plan_id,
        terms_id=draft.plan.terms_id,
        campaign_run=run,
        source=source,
        kind=OfferKind(str(draft.fit)),
        need=draft.need[:200],
        list_price=cents(draft.plan.monthly_price),
        discount_percent=draft.discount_percent,
        discount_first_term_only=draft.first_term_only,
        monthly_price=replayed.monthly_price,
        trailing_labour=draft.trailing_labour,
        trailing_priority=draft.trailing_priority,
        trailing_spend=draft.trailing_spend,
        trailing_hours=draft.trailing_hours,
        trailing_tickets=draft.trailing_tickets,
        priority_purchases=draft.priority_purchases,
        contract_cost=replayed.cost,
        monthly=[m.as_json() for m in replayed.months],
        nonce=secrets.token_urlsafe(16),
        created_at=now,
        expires_at=now + dt.timedelta(days=rules.offer_lifetime_days),
    )


def announce_after_commit(offer_ids: list[int]) -> None:
    """Once committed, the offers are handed to the send tasks (offers.tasks listens)."""
    transaction.on_commit(partial(offers_made.send, sender=ConversionOffer, offer_ids=offer_ids))


def lock_campaign_rules() -> CampaignSettings:
    """Lock the campaign settings row: whoever creates offers queues up here, so a manual offer
    during a scheduled run cannot make the run's bulk insert hit one_open_offer_per_client."""
    CampaignSettings.load()
    return CampaignSettings.objects.select_for_update().get(pk=1)


def make_offers(
    drafts: Sequence[OfferDraft],
    *,
    run: CampaignRun | None,
    source: str,
    now: dt.datetime,
    rules: CampaignSettings,
) -> list[ConversionOffer]:
    return ConversionOffer.objects.bulk_create(
        [offer_row(d, run=run, source=source, now=now, rules=rules) for d in drafts],
        batch_size=1000,
    )


# A campaign commits its offers in chunks, and each chunk's emails are queued as soon as it
# commits: the first emails leave a fraction of a second after the drafts are ready, instead of
# after all of a big run's offers are written (two seconds for 10,000; docs/performance.md).
OFFER_CHUNK = 500


def campaign_run(
    *,
    trigger: str = CampaignTrigger.SCHEDULE,
    triggered_by: User | None = None,
    now: dt.datetime | None = None,
) -> CampaignRun:
    """Offer a contract to every eligible client it fits; each chunk's emails are queued after
    it commits.

    The first transaction locks the campaign settings, records the run, drafts every candidate
    and commits the first chunk of offers. Each later chunk takes the lock again and leaves out
    clients the rules no longer allow (an offer someone made meanwhile, an opt-out, a contract),
    so an offer made by hand, the moment scan or another run between two chunks is never
    doubled. The run's counts grow with each chunk, in its transaction: a run that stops
    halfway leaves the offers it committed, their emails queued, and counts that match them;
    the next run finds those clients offered (inside the cooldown) and offers the rest.
    """
    now = now or timezone.now()
    with collector_paused():
        with transaction.atomic():
            # Lock the settings row: whoever makes offers (a manual one, the moment scan,
            # another run) queues up here, and finds this run's committed offers open.
            rules = lock_campaign_rules()
            run = CampaignRun.objects.create(
                started_at=now, trigger=trigger, triggered_by=triggered_by
            )
            draft = campaign_drafts(now=now, rules=rules)
            run.eligible_clients = draft.eligible
            run.not_offered = len(draft.not_offered)
            run.not_offered_reasons = draft.reasons()
            run.save()
            offers = draft.offers
            _make_campaign_chunk(offers[:OFFER_CHUNK], run=run, now=now, rules=rules)
        for start in range(OFFER_CHUNK, len(offers), OFFER_CHUNK):
            with transaction.atomic():
                rules = lock_campaign_rules()
                chunk = _still_offerable(offers[start : start + OFFER_CHUNK], now=now, rules=rules)
                _make_campaign_chunk(chunk, run=run, now=now, rules=rules)
    run.refresh_from_db(fields=["offers_created", "savings_offers", "value_offers"])
    return run


def _still_offerable(
    drafts: Sequence[OfferDraft], *, now: dt.datetime, rules: CampaignSettings
) -> list[OfferDraft]:
    """The drafts whose clients the rules still allow an offer (asked again under the lock)."""
    allowed = set(
        not_recently_offered(offerable_clients(), now=now, rules=rules)
        .filter(pk__in=[d.client.pk for d in drafts])
        .values_list("pk", flat=True)
    )
    return [d for d in drafts if d.client.pk in allowed]


def _make_campaign_chunk(
    drafts: Sequence[OfferDraft], *, run: CampaignRun, now: dt.datetime, rules: CampaignSettings
) -> None:
    offers = make_offers(drafts, run=run, source=OfferSource.CAMPAIGN, now=now, rules=rules)
    CampaignRun.objects.filter(pk=run.pk).update(
        offers_created=F("offers_created") + len(offers),
        savings_offers=F("savings_offers") + sum(1 for d in drafts if d.fit == Fit.SAVINGS),
        value_offers=F("value_offers") + sum(1 for d in drafts if d.fit == Fit.VALUE),
    )
    announce_after_commit([o.pk for o in offers])


def offer_refusal(client: Client) -> str:
    """Why `client` is not offerable (offerable_clients() says whether; this says why, in the
    words a manager needs to act on it)."""
    if client.is_dropped:
        return "it has been dropped; reinstate it first."
    if client.offers_opt_out:
        return "it asked not to receive offers (opted out)."
    if ServiceContract.objects.held_by(client):
        return "it already holds a service contract."
    if (open_offer := ConversionOffer.objects.open().filter(client=client).first()) is not None:
        return (
            f"it has an open offer already, until "
            f"{timezone.localtime(open_offer.expires_at):%-d %B %Y}."
        )
    if not client.contacts.primary().exists():
        return "it has no primary contact to send the offer to; mark one on its page."
    return "it does not meet the rules for an offer right now."


@transaction.atomic
def offer_send_now(
    *, client: Client, by: Actor = None, now: dt.datetime | None = None
) -> ConversionOffer:
    """Offer a contract to one client now (a manager's decision: no threshold, no cooldown)."""
    now = now or timezone.now()
    rules = lock_campaign_rules()
    locked = Client.objects.select_for_update().get(pk=client.pk)
    candidate = with_trailing_figures(offerable_clients().filter(pk=client.pk), now=now).first()
    if candidate is None:
        # The locked row, not the caller's copy: its flags may have changed since.
        raise OfferError(f"{locked} cannot be offered a contract: {offer_refusal(locked)}")
    if (draft := draft_one(candidate, rules=rules, now=now)) is None:
        raise OfferError(NO_PLAN_OFFERED)
    if draft.fit == Fit.NONE:
        # The manager decided to offer: it goes out as what it is, a premium for the service,
        # never as a saving the replay does not show.
        draft = replace(draft, verdict=Verdict(Fit.VALUE, draft.verdict.reason))
    try:
        with transaction.atomic():
            offer = offer_row(draft, run=None, source=OfferSource.MANUAL, now=now, rules=rules)
            record_change(offer, by=by, reason="Sent by a manager")
            offer.save()
    except IntegrityError:
        raise OfferError(f"{client} already has an open offer.") from None
    client_event_record(
        client=candidate,
        kind=ClientEventKind.OFFER_MADE,
        summary=history.offer_made(offer),
        by=by,
        at=now,
    )
    announce_after_commit([offer.pk])
    return offer


# --- The client's answer ------------------------------------------------------------------------
class OfferClosed(OfferError):
    """The offer can no longer be answered (used, expired, withdrawn, or superseded)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def closed_reason(offer: ConversionOffer, now: dt.datetime) -> OfferClosed | None:
    """Why this offer can no longer be answered, or None while it is open (one rule for the
    page and for the POSTs). Messages are for the client: never internal wording."""
    if offer.status == OfferStatus.ACCEPTED:
        return OfferClosed("You accepted this offer already.", reason="accepted")
    if offer.status == OfferStatus.DECLINED:
        return OfferClosed("You declined this offer.", reason="declined")
    if offer.is_expired(now):
        return OfferClosed("This offer has expired.", reason="expired")
    if not offer.is_open or offer.client.is_dropped or offer.client.offers_opt_out:
        return OfferClosed("This offer was withdrawn.", reason="withdrawn")
    return None


def _lock_open_offer(offer: ConversionOffer, now: dt.datetime) -> ConversionOffer:
    # Lock order everywhere: the client, then its offers (contract_start locks the client too).
    Client.objects.select_for_update().get(pk=offer.client_id)
    # Only the offer row: the client is locked above, and locking the joined plan would queue
    # every answer to offers of that plan behind one another.
    locked = (
        ConversionOffer.objects.select_for_update(of=("self",))
        .select_related("client", "plan")
        .get(pk=offer.pk)
    )
    if (closed := closed_reason(locked, now)) is not None:
        raise closed
    return locked


def offer_opened(*, offer: ConversionOffer, now: dt.datetime | None = None) -> bool:
    """Record the first time the offer's page was shown; return whether this was it.

    One conditional UPDATE and no lock: two tabs opening at once record one time. "Opened"
    means the page was fetched, which a mail provider's link scanner may do too.
    """
    now = now or timezone.now()
    opened = ConversionOffer.objects.filter(pk=offer.pk, opened_at__isnull=True)
    if not opened.update(opened_at=now):
        return False
    offer.opened_at = now
    return True


def _signer_field(value: str, what: str) -> str:
    # One line: a name with a line break would break the history and the emails that repeat it.
    value = " ".join(value.split())
    if not value:
        raise OfferError(f"The {what} of the person accepting is required.")
    if len(value) > SIGNER_MAX_LENGTH:
        raise OfferError(f"The {what} of the person accepting is too long.")
    return value


@transaction.atomic
def offer_accept(
    *,
    offer: ConversionOffer,
    signer_name: str,
    signer_role: str,
    ip: str | None,
    user_agent: str,
    now: dt.datetime | None = None,
) -> ServiceContract:
    """Accept: start the contract at the offered price, record who accepted on which terms
    (signer, role, time, address, browser), notify after commit."""
    now = now or timezone.now()
    signer_name = _signer_field(signer_name, "name")
    signer_role = _signer_field(signer_role, "role")
    # The row lock makes a double click (or two tabs) queue up: the second sees ACCEPTED.
    locked = _lock_open_offer(offer, now)
    if ServiceContract.objects.held_by(locked.client):
        raise OfferClosed("You already have a service contract with us.", reason="has_contract")
    # An offer made before terms were versioned is accepted on the terms its page shows now:
    # the plan's current version (saved first if the plan never had one).
    terms = locked.terms_shown()
    if terms.pk is None:
        terms = plan_terms_set(plan=locked.plan, summary=terms.summary, text=terms.text)
    # Accepted before the contract starts: contract_started withdraws the client's open offers
    # (offers.receivers.withdraw_open_offers), and this one is no longer open.
    history_baseline(locked)
    record_change(locked, reason=f"Accepted by {signer_name}, {signer_role}", clients_own=True)
    locked.status = OfferStatus.ACCEPTED
    locked.terms = terms
    locked.responded_at = now
    locked.signer_name = signer_name
    locked.signer_role = signer_role
    locked.accepted_ip = ip
    locked.accepted_user_agent = user_agent[:500]
    locked.save(
        update_fields=[
            "status",
            "terms",
            "responded_at",
            "signer_name",
            "signer_role",
            "accepted_ip",
            "accepted_user_agent",
        ]
    )
    try:
        contract = contract_start(
            client=locked.client,
            plan=locked.plan,
            starts_on=timezone.localdate(now),
            discount_percent=locked.discount_percent,
            monthly_price=locked.monthly_price,
            discount_first_term_only=locked.discount_first_term_only,
            from_offer=True,
        )
    except ContractError as exc:
        # The whole answer rolls back (the exception leaves this transaction). The service's
        # reason is worded for staff; the client gets a plain answer.
        log.warning("offer %s could not be accepted: %s", locked.pk, exc)
        raise OfferClosed(
            "We could not start the contract online; we will call you to set it up.",
            reason="withdrawn",
        ) from exc
    locked.contract = contract
    record_change(locked, reason="The contract it started")
    locked.save(update_fields=["contract"])
    client_event_record(
        client=locked.client,
        kind=ClientEventKind.OFFER_ACCEPTED,
        summary=history.offer_accepted(locked),
        at=now,
    )
    acceptance_emails_write(locked, now=now)
    return contract


@transaction.atomic
def offer_decline(*, offer: ConversionOffer, now: dt.datetime | None = None) -> ConversionOffer:
    now = now or timezone.now()
    locked = _lock_open_offer(offer, now)
    history_baseline(locked)
    record_change(locked, reason="Declined by the client", clients_own=True)
    locked.status = OfferStatus.DECLINED
    locked.responded_at = now
    locked.save(update_fields=["status", "responded_at"])
    client_event_record(
        client=locked.client,
        kind=ClientEventKind.OFFER_DECLINED,
        summary=history.offer_declined(locked),
        at=now,
    )
    return locked


@transaction.atomic
def offer_unsubscribe(*, offer: ConversionOffer, now: dt.datetime | None = None) -> Client:
    """The client wants no more offers: opt out, and withdraw any offer still open."""
    return client_opt_out_set(
        client=offer.client, opt_out=True, how=history.unsubscribed(offer.email), now=now
    )


@transaction.atomic
def client_opt_out_set(
    *,
    client: Client,
    opt_out: bool,
    by: Actor = None,
    how: str = "",
    now: dt.datetime | None = None,
) -> Client:
    """Opt a client out of contract offers (withdrawing any still open) or back in.

    A change is written to the client's history; setting what is already set changes nothing
    (a second click on an unsubscribe link), except that opting out withdraws open offers.
    """
    now = now or timezone.now()
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if opt_out:
        ConversionOffer.objects.open().for_client(locked.pk).withdraw(now)
    if locked.offers_opt_out == opt_out:
        return locked
    locked.offers_opt_out = opt_out
    locked.save(update_fields=["offers_opt_out"])
    client_event_record(
        client=locked,
        kind=ClientEventKind.OPTED_OUT if opt_out else ClientEventKind.OPTED_IN,
        summary=how
        or ("Opted out of contract offers" if opt_out else "Opted back in to contract offers"),
        by=by,
        at=now,
    )
    return locked


def offers_expire(*, now: dt.datetime | None = None) -> int:
    """Close open offers whose time is up; return how many."""
    now = now or timezone.now()
    # A "sending" claim is left alone while a live worker may still hold it.
    return (
        ConversionOffer.objects.filter(expires_at__lte=now)
        .filter(
            Q(status__in=[OfferStatus.PENDING, OfferStatus.SENT])
            | Q(status=OfferStatus.SENDING, claimed_at__lt=now - stale_claim_age())
        )
        .update(status=OfferStatus.EXPIRED)
    )


def offers_due_reminder(*, now: dt.datetime, rules: CampaignSettings) -> list[int]:
    """Ids of sent offers inside the reminder window that were not reminded yet."""
    window = now + dt.timedelta(days=rules.reminder_days_before_expiry)
    return list(
        ConversionOffer.objects.filter(
            status=OfferStatus.SENT,
            reminded_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=window,
        )
        .order_by("expires_at")
        .values_list("pk", flat=True)
    )
