"""Renewal notices: a client on automatic renewal is told, a set number of days before its term
ends, that the contract renews and at what price (the plan's, when a first-term discount ends).

Each notice is claimed (renewal_notice_sent_at) in the transaction that writes it to the outbox
(clients/outbox.py) and the client's history, so a re-run or a second worker never writes it
twice, a run that dies before the commit leaves it to the next, and the outbox delivers what
was committed, retrying a mail server that is down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from email.utils import formataddr

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from clients.mail import one_line, render_email
from clients.models import ClientEventKind, EmailKind
from clients.outbox import outbox_add
from clients.services import client_event_record
from contracts import history
from contracts.models import RenewalMode, RenewalSettings, ServiceContract


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
    """Claim the notices of these contracts and write them to the outbox; return how many were
    written (a contract whose client has no primary contact is claimed, and gets none)."""
    now = now or timezone.now()
    written = 0
    with transaction.atomic():
        ids = list(
            ServiceContract.objects.filter(pk__in=contract_ids, renewal_notice_sent_at__isnull=True)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        ServiceContract.objects.filter(pk__in=ids).update(renewal_notice_sent_at=now)
        contracts = ServiceContract.objects.filter(pk__in=ids).select_related("client", "plan")
        for contract in contracts.order_by("pk"):
            client_event_record(
                client=contract.client,
                kind=ClientEventKind.RENEWAL_NOTICE,
                summary=history.renewal_notice(contract),
                at=now,
            )
            message = renewal_notice(contract)
            if message is None:
                continue
            outbox_add(
                message,
                kind=EmailKind.RENEWAL_NOTICE,
                key=f"renewal-notice:{contract.pk}",
                client=contract.client,
                now=now,
            )
            written += 1
    return written
