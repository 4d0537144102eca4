"""What the offer services announce once their transaction has committed.

The services send these from `transaction.on_commit`; `offers.tasks` connects to them (in
OffersConfig.ready) and queues the emails. So tasks import services and never the other way
round, and nothing is queued for a change that rolled back.
"""

from __future__ import annotations

from django.dispatch import Signal

# Offers were made and wait to be sent (`offer_ids`, in the order they should go out).
offers_made = Signal()
