"""Signals the contracts app sends so that higher apps can react without being imported here.

Both are sent from inside the service's transaction; receivers run in it, so their writes commit
or roll back with the contract change. Receivers get `contract` (a ServiceContract) and `client`.
"""

from __future__ import annotations

from django.dispatch import Signal

# A contract became active for a client: its open tickets should now be served as contract tickets.
contract_started = Signal()

# A client's active contract ended (cancelled or expired): its open tickets lose the guarantee.
contract_ended = Signal()
