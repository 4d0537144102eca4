"""The practice's standard contract terms, worded from a plan's own figures.

A plan starts with these (the demo, a new plan in the admin, plans that existed before terms were
versioned); a manager edits them in the admin, which adds a version (plan_terms_set).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from clients.money import hours, money

if TYPE_CHECKING:
    from contracts.models import ContractPlan


def standard_terms(
    *,
    name: str,
    monthly_price: Decimal,
    included_hours: Decimal,
    overage_rate: Decimal,
    term_months: int,
) -> tuple[str, str]:
    """Return (summary, full text) of the standard terms for a plan with these figures."""
    included = hours(included_hours)
    summary = (
        f"{name}: a {term_months}-month service contract at the monthly price in your offer, "
        f"billed monthly. It includes {included} hours of work a month; further hours are billed "
        f"at {money(overage_rate)} an hour. Your tickets are answered within the response "
        "times listed and served before pay-per-job work. The contract renews for another "
        "term unless either side cancels in writing before it ends."
    )
    text = "\n\n".join(
        [
            f"1. Service. We provide IT support under the {name} plan: your tickets are served "
            "first in our queue and answered within the response and resolution times listed "
            "in the plan, counted in the hours the plan covers.",
            f"2. Term. The contract runs for {term_months} months from the day you accept and "
            "renews for a further term of the same length unless either side cancels in "
            "writing before the term ends. A loyalty discount applies for the period stated in "
            "your offer; after it the plan's price then current applies.",
            f"3. Fees. The monthly fee is billed at the start of each month, prorated for a part "
            f"month. It includes {included} hours of work a month, which do not carry over; work "
            f"beyond them is billed at {money(overage_rate)} an hour, per minute, with the "
            "month's invoice. Invoices are payable within the terms printed on them.",
            "4. Exclusions. Hardware, software licences and other goods are billed separately "
            "at the prices quoted when you order them.",
            "5. Cancellation. Either side may cancel with written notice; fees for months "
            "already begun are due, and no later month is billed.",
            "6. Data. We keep the records of your tickets, work and invoices for as long as the "
            "law requires and use them only to serve you.",
        ]
    )
    return summary, text


def standard_terms_of(plan: ContractPlan) -> tuple[str, str]:
    """The standard terms for `plan`'s figures."""
    return standard_terms(
        name=plan.name,
        monthly_price=plan.monthly_price,
        included_hours=plan.included_hours,
        overage_rate=plan.overage_hourly_rate,
        term_months=plan.term_months,
    )
