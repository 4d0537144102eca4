from __future__ import annotations

from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = "Tickets"

    def ready(self) -> None:
        # Imported here, not at the top: app modules may import models only once the app
        # registry is ready.
        from contracts.signals import contract_ended, contract_started
        from tickets import receivers, tasks
        from tickets.signals import ticket_opened, ticket_replied

        contract_started.connect(
            receivers.on_contract_started, dispatch_uid="tickets.contract_started"
        )
        contract_ended.connect(receivers.on_contract_ended, dispatch_uid="tickets.contract_ended")
        ticket_opened.connect(tasks.on_ticket_opened, dispatch_uid="tickets.ticket_opened")
        ticket_replied.connect(tasks.on_ticket_replied, dispatch_uid="tickets.ticket_replied")
