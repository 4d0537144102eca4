"""Queue at once every email that waits: for an operator, after the broker, the workers or the
mail server were down. The sweepers do the same on their own (the outbox's every minute, the
offers' every ten), only more patiently."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clients.models import EmailKind, OutboundEmail
from clients.outbox import outbox_requeue_all
from clients.tasks import queue_outbox
from offers.delivery import offers_needing_delivery
from offers.tasks import queue_offer_emails


class Command(BaseCommand):
    help = (
        "Queue every email still waiting: outbox rows pending (their backoff cut short) or "
        "claimed by a worker that died, and offers not sent yet. Prints what it queued. Safe "
        "to run at any time: a row or offer is claimed before it is sent, so nothing goes twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        email_ids = outbox_requeue_all(now)
        kinds = Counter(
            OutboundEmail.objects.filter(pk__in=email_ids).values_list("kind", flat=True)
        )
        emails_queued = queue_outbox(email_ids)
        offer_ids = offers_needing_delivery(now, pending_for=dt.timedelta(0))
        offers_queued = queue_offer_emails(offer_ids)
        self.stdout.write(f"Queued {emails_queued} email(s) from the outbox.")
        for kind, count in sorted(kinds.items()):
            self.stdout.write(f"  {EmailKind(kind).label}: {count}")
        self.stdout.write(f"Queued {offers_queued} offer(s) not sent yet.")
        missed = len(email_ids) - emails_queued + len(offer_ids) - offers_queued
        if missed:
            raise CommandError(
                f"The broker did not take {missed} of them: is it running? They stay in the "
                "outbox; run this again once it answers."
            )
