"""What the ticket services announce once their transaction has committed.

The services send these from `transaction.on_commit`; `tickets.tasks` connects to them (in
TicketsConfig.ready) and queues the emails. So tasks import services and never the other way
round, and nothing is queued for a change that rolled back. Receivers get the row's id.
"""

from __future__ import annotations

from django.dispatch import Signal

# A ticket was opened for a client with a contact: acknowledge it (`ticket_id`).
ticket_opened = Signal()

# A consultant replied to the client (`event_id` of the reply).
ticket_replied = Signal()
