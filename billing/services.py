"""Pricing work as it is logged: the split of logged time, labour and surcharge charges.

The monthly run lives in `billing.run`, invoices in `billing.invoicing`. Amounts come from
`billing.pricing` (the one rule) and are rounded by `clients.money`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from billing.models import (
    ContractPeriod,
    RateCard,
)
from billing.periods import Period, day_start
from billing.pricing import ContractMonth, contract_month, included_minutes, split_minutes
from clients.models import Charge, ChargeKind, Client
from clients.money import as_hours, for_minutes
from contracts.models import RenewalMode, ServiceContract
from contracts.services import contract_renew

if TYPE_CHECKING:
    from clients.services import Actor


class BillingError(Exception):
    """A billing action the rules do not allow; the message is for the user."""


def acting_staff(by: Actor) -> User | None:
    """The staff member to record, or None for the client or a scheduled task."""
    return by if isinstance(by, User) else None


def period_refusal(period: Period, today: dt.date | None = None) -> str | None:
    """Why `period` cannot be billed or invoiced, or None."""
    today = today or timezone.localdate()
    if not period.has_ended(today):
        return f"{period.label} has not ended yet; bill it from 1 {period.next.label} onwards."
    first = first_billed_month()
    if first is not None and period < first:
        return (
            f"{period.label} is before {first.label}, the first month billed here (the rate "
            "card's “Bill from”); earlier months were billed elsewhere."
        )
    return None


def first_billed_month() -> Period | None:
    """The rate card's "Bill from" month, if the practice set one."""
    bills_from = RateCard.load().bills_from
    return None if bills_from is None else Period.of(bills_from)


def contracts_to_bill(period: Period) -> QuerySet[ServiceContract]:
    """Terms that cover a day of `period` and have not been billed for it."""
    return (
        ServiceContract.objects.covering(period.first_day, period.last_day)
        .exclude(billed_periods__period=period.first_day)
        .order_by("pk")
    )


# --- Work: the split of logged time and its charge (called by tickets.time_log) ---------------
@dataclass(frozen=True)
class WorkSplit:
    """Logged minutes split into those the contract in force covers and those billed."""

    contract: ServiceContract | None
    covered: int
    billable: int


def work_contract(*, client: Client, work_date: dt.date) -> ServiceContract | None:
    """The client's contract term in force on `work_date`, locked (None: break-fix work).

    Call it inside the transaction that logs the work. Locked: two entries logged at once must
    not both spend the month's last included hour, and a billing run of that month must not
    post the overage while an entry is being added. An automatic term whose end has passed but
    which the nightly roll-over has not renewed yet is renewed here, as the roll-over would: the
    client is on contract without a gap, and the work belongs to the new term.
    """
    terms = ServiceContract.objects.for_client(client).select_related("plan")
    lapsed = (
        terms.active()
        .filter(renewal=RenewalMode.AUTOMATIC, starts_on__lte=work_date, ends_on__lt=work_date)
        .first()
    )
    while lapsed is not None and lapsed.ends_on < work_date:
        lapsed = contract_renew(contract=lapsed)
    return terms.covering(work_date, work_date).select_for_update(of=("self",)).first()


def work_allowance(contract: ServiceContract, *, work_date: dt.date) -> int:
    """The included minutes of the month of `work_date` under `contract` (prorated by day)."""
    period = Period.of(work_date)
    days = period.days_within(contract.starts_on, contract.last_day)
    return included_minutes(contract.plan.included_hours, days, period.days)


def term_month(
    contract: ServiceContract,
    period: Period,
    *,
    worked_minutes: int,
    charged_minutes: int = 0,
) -> ContractMonth:
    """What `period` of `contract` costs: billing's one rule for a contract month
    (billing.pricing.contract_month), fed the term's price, its plan's hours and rate, and the
    days of the month it covers. The monthly run bills it; the client page shows it."""
    plan = contract.plan
    return contract_month(
        monthly_price=contract.monthly_price,
        included_hours=plan.included_hours,
        overage_rate=plan.overage_hourly_rate,
        worked_minutes=worked_minutes,
        days_covered=period.days_within(contract.starts_on, contract.last_day),
        days_in_month=period.days,
        charged_minutes=charged_minutes,
    )


def work_split(
    *, contract: ServiceContract | None, work_date: dt.date, minutes: int, used: int
) -> WorkSplit:
    """Split `minutes` logged for `work_date`, `used` included minutes of that month already spent."""
    if contract is None:
        return WorkSplit(contract=None, covered=0, billable=minutes)
    covered, beyond = split_minutes(
        minutes, allowance=work_allowance(contract, work_date=work_date), used=used
    )
    return WorkSplit(contract=contract, covered=covered, billable=beyond)


def is_after_hours(card: RateCard, *, work_date: dt.date, marked: bool) -> bool:
    """Whether break-fix work is billed at the after-hours rate."""
    if card.after_hours_rate is None:
        return False
    return marked or (
        card.calendar is not None and not card.calendar.working_hours().is_working_day(work_date)
    )


def work_charge(
    *,
    client_id: int,
    split: WorkSplit,
    work_date: dt.date,
    after_hours: bool,
    description: str,
    by: Actor = None,
) -> Charge | None:
    """Post the charge for the billed minutes of `split`, if they are billed now.

    Break-fix minutes are labour at the rate card's rate. Minutes beyond a contract's included
    hours are overage: the month's billing run posts them together, unless that month is billed
    already, in which case they are posted now.
    """
    if not split.billable:
        return None
    contract = split.contract
    if contract is not None:
        billed = ContractPeriod.objects.filter(
            contract=contract, period=Period.of(work_date).first_day
        ).exists()
        if not billed:
            return None
        kind, rate = ChargeKind.OVERAGE, contract.plan.overage_hourly_rate
        label = "Overage (month already billed)"
    else:
        card = RateCard.load()
        late = is_after_hours(card, work_date=work_date, marked=after_hours)
        kind, rate = ChargeKind.LABOUR, card.labour_rate(after_hours=late)
        label = "After-hours labour" if late else "Labour"
    amount = for_minutes(rate, split.billable)
    if amount <= 0:  # a free hour (an all-inclusive plan's zero overage rate) is never charged
        return None
    return Charge.objects.create(
        client_id=client_id,
        kind=kind,
        amount=amount,
        rate=rate,
        hours=as_hours(split.billable),
        description=f"{label}, {split.billable} min: {description}"[:300],
        occurred_at=day_start(work_date),
        created_by=acting_staff(by),
    )


def priority_charge(*, client_id: int, description: str, by: Actor = None) -> Charge:
    """Post the paid-priority surcharge at the rate card's price."""
    surcharge = RateCard.load().paid_priority_surcharge
    return Charge.objects.create(
        client_id=client_id,
        kind=ChargeKind.PAID_PRIORITY,
        amount=surcharge,
        rate=surcharge,
        description=description[:300],
        created_by=acting_staff(by),
    )
