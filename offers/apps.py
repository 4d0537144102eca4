from __future__ import annotations

from django.apps import AppConfig

from clients.signals import client_dropped
from contracts.signals import contract_started
from offers.signals import offers_made


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Conversion offers"

    def ready(self) -> None:
        # Here, not at the top: these modules import models, which Django lets an app import
        # only once its registry is ready.
        from offers import receivers, tasks

        contract_started.connect(
            receivers.withdraw_open_offers, dispatch_uid="offers.contract_started"
        )
        client_dropped.connect(receivers.withdraw_open_offers, dispatch_uid="offers.client_dropped")
        offers_made.connect(tasks.on_offers_made, dispatch_uid="offers.offers_made")
