from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        from contracts.signals import contract_ended, contract_started
        from tickets import receivers

        contract_started.connect(
            receivers.on_contract_started, dispatch_uid="tickets.contract_started"
        )
        contract_ended.connect(receivers.on_contract_ended, dispatch_uid="tickets.contract_ended")
