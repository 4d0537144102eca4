"""Who bills: the permission that opens /billing/ (run the month, issue, credit, export).

Code asks for this permission, never for the Managers group by name (see consultancy.roles).
"""

from __future__ import annotations

MANAGE_BILLING = "billing.add_invoice"
