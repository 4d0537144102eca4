"""Reactions to the contracts app's signals (connected in TicketsConfig.ready)."""

from __future__ import annotations

from typing import Any

from clients.models import Client
from contracts.models import ServiceContract
from tickets.services import tickets_requeue_for_client


def on_contract_started(
    sender: Any, *, contract: ServiceContract, client: Client, **kwargs: Any
) -> None:
    tickets_requeue_for_client(client=client, contract=contract)


def on_contract_ended(
    sender: Any, *, contract: ServiceContract, client: Client, **kwargs: Any
) -> None:
    tickets_requeue_for_client(client=client, contract=None)
