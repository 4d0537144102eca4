from __future__ import annotations

from django.apps import AppConfig

from contracts.signals import contract_ended, contract_started
from tickets.signals import ticket_opened, ticket_replied


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django lets an app import
        # only once its registry is ready.
        from tickets import receivers, tasks

        contract_started.connect(
            receivers.on_contract_started, dispatch_uid="tickets.contract_started"
        )
        contract_ended.connect(receivers.on_contract_ended, dispatch_uid="tickets.contract_ended")
        ticket_opened.connect(tasks.on_ticket_opened, dispatch_uid="tickets.ticket_opened")
        ticket_replied.connect(tasks.on_ticket_replied, dispatch_uid="tickets.ticket_replied")
