"""Reactions to the lower apps' signals (connected in OffersConfig.ready). Both run inside the
sender's transaction, so the offers close or stay open with the change that closed them."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from clients.models import Client
from offers.models import ConversionOffer


def withdraw_open_offers(sender: Any, *, client: Client, **kwargs: Any) -> None:
    """A client on a contract, or dropped, is offered nothing: close what is still open."""
    ConversionOffer.objects.open().for_client(client.pk).withdraw(timezone.now())
