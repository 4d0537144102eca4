"""Renewal notices: a client on automatic renewal is told, a set number of days before its term
ends, that the contract renews and at what price (the plan's, when a first-term discount ends).

Each notice is claimed before it is sent (renewal_notice_sent_at is set in the claiming
transaction), so a re-run or a second worker never sends it twice; a notice whose sending fails
is logged and not retried, as the offers' reminders do (the outbox of issue 15 makes it durable).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from clients.mail import one_line, render_email
from clients.models import ClientEventKind
from clients.services import client_event_record
from contracts import history
from contracts.models import RenewalMode, RenewalSettings, ServiceContract

log = logging.getLogger(__name__)


def renewal_notices_due(*, today: dt.date, settings_row: RenewalSettings) -> list[int]:
    """Active automatic contracts ending within the notice period that were not told yet."""
    return list(
        ServiceContract.objects.active()
        .filter(
            renewal=RenewalMode.AUTOMATIC,
            renewal_notice_sent_at__isnull=True,
            ends_on__gte=today,
            ends_on__lte=today + dt.timedelta(days=settings_row.notice_days),
            client__contacts__is_primary=True,
        )
        .order_by("ends_on", "pk")
        .values_list("pk", flat=True)
    )


def renewal_notice(contract: ServiceContract) -> EmailMultiAlternatives | None:
    """The notice for `contract`, to its client's primary contact (None without one)."""
    contact = contract.client.contacts.primary().first()
    if contact is None:
        return None
    next_start = contract.ends_on + dt.timedelta(days=1)
    context = {
        "contract": contract,
        "plan": contract.plan,
        "client_name": one_line(contract.client.name),
        "contact_name": one_line(contact.name) or "there",
        "next_start": next_start,
        "renewal_price": contract.renewal_price,
        "discount_ends": contract.discount_ends_with_term,
    }
    return render_email(
        "renewal_notice", context, to=[formataddr((one_line(contact.name), contact.email))]
    )


def renewal_notices_send(contract_ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Claim and send the notices of these contracts; return how many were sent."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            ServiceContract.objects.filter(pk__in=contract_ids, renewal_notice_sent_at__isnull=True)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        ServiceContract.objects.filter(pk__in=ids).update(renewal_notice_sent_at=now)
        contracts = list(
            ServiceContract.objects.filter(pk__in=ids).select_related("client", "plan")
        )
        for contract in contracts:
            client_event_record(
                client=contract.client,
                kind=ClientEventKind.RENEWAL_NOTICE,
                summary=history.renewal_notice(contract),
                at=now,
            )
    sent = 0
    with get_connection() as connection:
        for contract in contracts:
            message = renewal_notice(contract)
            if message is None:
                continue
            try:
                connection.send_messages([message])
                sent += 1
            except Exception:
                log.exception("could not send the renewal notice of contract %s", contract.pk)
    return sent
