"""The offers' emails that go through the outbox (clients/outbox.py): the acceptance notes and
the reminders. The offer email itself does not: the offer row is its own outbox
(offers.delivery), which a campaign of ten thousand needs for its speed.

Each is written in the transaction of what causes it (the acceptance; the reminder's claim on
reminded_at), one row per recipient under a key naming the offer, and delivered after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from clients.models import EmailKind
from clients.outbox import outbox_add
from offers.emails import OfferMail, acceptance_messages
from offers.models import ConversionOffer, OfferStatus


def acceptance_emails_write(offer: ConversionOffer, *, now: dt.datetime) -> None:
    """The client's confirmation and the managers' notice of an accepted offer, inside the
    acceptance's transaction. Each recipient is a row of its own: a failure on a manager's
    notice never sends the client's confirmation again."""
    confirmation, *notices = acceptance_messages(offer)
    outbox_add(
        confirmation,
        kind=EmailKind.OFFER_ACCEPTED,
        key=f"offer-accepted:{offer.pk}",
        client=offer.client,
        now=now,
    )
    for notice in notices:
        outbox_add(
            notice,
            kind=EmailKind.OFFER_ACCEPTED_MANAGER,
            key=f"offer-accepted-manager:{offer.pk}",
            client=offer.client,
            now=now,
        )


def offers_remind(offer_ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Write one reminder per offer that was sent and not reminded yet; return how many.

    Claiming (setting reminded_at) and writing the reminder are one transaction: a retried or
    concurrent run finds the offers reminded, and a run that dies before the commit leaves
    them to the next one. Before the outbox a reminder whose sending failed was lost.
    """
    now = now or timezone.now()
    with transaction.atomic():
        offers = list(
            ConversionOffer.objects.filter(
                pk__in=offer_ids, status=OfferStatus.SENT, reminded_at__isnull=True
            )
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("client", "plan__calendar", "contact")
            .order_by("pk")
        )
        ConversionOffer.objects.filter(pk__in=[o.pk for o in offers]).update(reminded_at=now)
        mail = OfferMail()
        for offer in offers:
            outbox_add(
                mail.build(offer, reminder=True),
                kind=EmailKind.OFFER_REMINDER,
                key=f"offer-reminder:{offer.pk}",
                client=offer.client,
                now=now,
            )
    return len(offers)
