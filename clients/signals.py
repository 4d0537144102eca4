"""Signals the clients app sends so that apps above it can react without being imported here.

Sent from inside the service's transaction; receivers run in it, so their writes commit or roll
back with the change. Receivers get `client` (a Client).
"""

from __future__ import annotations

from django.dispatch import Signal

# A client was dropped (we stop serving it): whatever was still on offer to it is withdrawn.
client_dropped = Signal()

# Outbox rows were committed and wait for delivery (`email_ids`). Sent from
# transaction.on_commit, not inside the transaction: clients.tasks queues their delivery.
outbox_written = Signal()
