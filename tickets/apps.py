from __future__ import annotations

from django.apps import AppConfig

from contracts.signals import contract_ended, contract_started


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django lets an app import
        # only once its registry is ready.
        from tickets import receivers

        contract_started.connect(
            receivers.on_contract_started, dispatch_uid="tickets.contract_started"
        )
        contract_ended.connect(receivers.on_contract_ended, dispatch_uid="tickets.contract_ended")
