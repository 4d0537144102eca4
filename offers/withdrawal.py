"""Withdrawing an offer by hand: a manager takes back an offer still open (sent to the wrong
person, or on terms the practice no longer stands by). The offer's history says who and why."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clients.audit import history_baseline, record_change
from clients.models import Client
from offers.models import ConversionOffer, OfferStatus
from offers.services import OfferError

if TYPE_CHECKING:
    from clients.services import Actor


@transaction.atomic
def offer_withdraw(
    *, offer: ConversionOffer, reason: str, by: Actor = None, now: dt.datetime | None = None
) -> ConversionOffer:
    """Close an open offer unanswered; its links then say it was withdrawn."""
    now = now or timezone.now()
    # Lock order everywhere: the client, then its offers (an answer locks them so too).
    Client.objects.select_for_update().get(pk=offer.client_id)
    locked = (
        ConversionOffer.objects.select_for_update(of=("self",))
        .select_related("client")
        .get(pk=offer.pk)
    )
    if not locked.is_open:
        raise OfferError(
            f"The offer to {locked.client} is {locked.get_status_display().lower()}; only an "
            "open offer can be withdrawn."
        )
    history_baseline(locked)
    record_change(locked, by=by, reason=f"Withdrawn: {reason.strip() or 'by hand'}")
    locked.status = OfferStatus.WITHDRAWN
    locked.responded_at = now
    locked.save(update_fields=["status", "responded_at"])
    return locked
