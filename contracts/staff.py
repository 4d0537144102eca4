"""Who manages contracts: the permission that makes a manager, and how to reach the managers.

Code asks for this permission, never for the Managers group by name: the groups are defined in
`consultancy` (the top layer), and a practice may give one consultant the manager's permission.
"""

from __future__ import annotations

from clients.staff import users_with_perm

MANAGE_CONTRACTS = "contracts.change_servicecontract"


def manager_emails() -> list[str]:
    """Everyone who manages contracts (the Managers group, superusers), by email."""
    users = users_with_perm(MANAGE_CONTRACTS, include_superusers=True)
    return sorted({u.email for u in users.filter(is_active=True) if u.email})
