"""What the campaign and offer tests share (tests/offers/): a client a campaign would offer, and
the addresses the offers went to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

from clients.models import Client
from tests.conftest import DAY, NOW
from tests.factories import ChargeFactory, OfferableClientFactory, TicketFactory


def spender(
    spend: str = "600.00",
    tickets: int = 0,
    *,
    name: str | None = None,
    at: dt.datetime = NOW,
    **fields: Any,
) -> Client:
    """A reachable transactional client billed `spend` for labour a month before `at` (nothing
    if it is zero), with `tickets` opened twenty days before `at`."""
    client = OfferableClientFactory(**({"name": name} if name else {}), **fields)
    if Decimal(spend):
        ChargeFactory(client=client, amount=Decimal(spend), occurred_at=at - 30 * DAY)
    for _ in range(tickets):
        TicketFactory(client=client, opened_at=at - 20 * DAY)
    return client


def recipients(mailoutbox: list[Any]) -> list[str]:
    """The bare addresses the messages went to, one per recipient per message."""
    return sorted(parseaddr(to)[1] for message in mailoutbox for to in message.to)
