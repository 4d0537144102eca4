"""Contract management in the Django admin: plans and the calendar, contracts, and the contracts
on a client's page. Every change with business rules goes through contracts.services."""

from contracts.admin.clients import ContractClientAdmin
from contracts.admin.contracts import ServiceContractAdmin, price_after_discount
from contracts.admin.plans import BusinessCalendarAdmin, ContractPlanAdmin

__all__ = [
    "BusinessCalendarAdmin",
    "ContractClientAdmin",
    "ContractPlanAdmin",
    "ServiceContractAdmin",
    "price_after_discount",
]
