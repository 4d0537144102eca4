"""Writes to service contracts: start, renew, cancel. Each is one transaction."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.audit import history_baseline, record_change
from clients.models import Client, ClientEventKind
from clients.money import discounted
from clients.services import client_drop, client_event_record
from contracts import history
from contracts.models import (
    ContractPlan,
    ContractStatus,
    ContractTerms,
    RenewalMode,
    ServiceContract,
    ServiceLevel,
)
from contracts.signals import contract_ended, contract_started

if TYPE_CHECKING:
    from clients.services import Actor


ZERO_PERCENT = Decimal("0.00")


class ContractError(Exception):
    """A contract change the business rules do not allow; the message is for the user."""


def term_end(starts_on: dt.date, months: int) -> dt.date:
    """Return the last day of a term of `months` months that starts on `starts_on`."""
    return starts_on + relativedelta(months=months) - dt.timedelta(days=1)


def contract_start_refusal(client: Client, plan: ContractPlan) -> str | None:
    """Why `client` cannot start a contract on `plan` now, or None (one rule: form and service)."""
    if client.is_dropped:
        return f"{client} has been dropped; reinstate the client first."
    if ServiceContract.objects.held_by(client):
        return f"{client} already has an active contract."
    if not plan.service_levels.exists():
        return f"The {plan} plan has no response targets; add them before selling it."
    return None


@transaction.atomic
def plan_copy(*, plan: ContractPlan) -> ContractPlan:
    """Copy a plan and its targets as a new plan, not yet offered, whose terms can be edited.

    This is how a practice changes the terms it sells: contracts already running keep the old
    plan (its terms are fixed while they run); the copy is edited, offered, and the old plan
    stops being offered.
    """
    # A copy of a copy is the next "(new terms N)" of the original name, not "(new terms) (new
    # terms)". Tier names are unique and at most 100 characters long.
    original = re.sub(r" \(new terms(?: \d+)?\)$", "", plan.name)
    base = f"{original[:80]} (new terms"
    for _attempt in range(5):
        taken = set(
            ContractPlan.objects.filter(name__startswith=base).values_list("name", flat=True)
        )
        name, n = f"{base})", 2
        while name in taken:
            name, n = f"{base} {n})", n + 1
        try:
            # A savepoint: another manager copying the same plan this moment may take the name
            # first; the unique constraint says so and the next free name is tried.
            with transaction.atomic():
                copy = ContractPlan.objects.create(
                    name=name,
                    description=plan.description,
                    monthly_price=plan.monthly_price,
                    included_hours=plan.included_hours,
                    coverage=plan.coverage,
                    calendar_id=plan.calendar_id,
                    overage_hourly_rate=plan.overage_hourly_rate,
                    term_months=plan.term_months,
                    is_offered=False,
                )
            break
        except IntegrityError:
            continue
    else:
        raise ContractError(f"Could not find a free name for a copy of {plan}; try again.")
    if (terms := plan.current_terms()) is not None:
        ContractTerms.objects.create(plan=copy, version=1, summary=terms.summary, text=terms.text)
    # One by one (a plan has a handful), so that each target's history starts with the copy.
    for level in plan.service_levels.all():
        ServiceLevel.objects.create(
            plan=copy,
            priority=level.priority,
            response_minutes=level.response_minutes,
            resolution_minutes=level.resolution_minutes,
        )
    return copy


@transaction.atomic
def plan_terms_set(
    *, plan: ContractPlan, summary: str, text: str, by: Actor = None
) -> ContractTerms:
    """Make `summary` and `text` the plan's terms: a new version, unless they are the current
    ones already. Earlier versions stay as they were: offers made with them keep them."""
    # Lock the plan: two managers saving terms at once get consecutive versions.
    locked = ContractPlan.objects.select_for_update().get(pk=plan.pk)
    current = locked.current_terms()
    if current is not None and (current.summary, current.text) == (summary, text):
        return current
    return ContractTerms.objects.create(
        plan=locked,
        version=(current.version + 1) if current else 1,
        summary=summary,
        text=text,
        created_by=by if isinstance(by, User) else None,
    )


@transaction.atomic
def contract_start(
    *,
    client: Client,
    plan: ContractPlan,
    starts_on: dt.date | None = None,
    discount_percent: Decimal = Decimal("0.00"),
    monthly_price: Decimal | None = None,
    renewal: str = RenewalMode.AUTOMATIC,
    discount_first_term_only: bool = False,
    from_offer: bool = False,
    by: Actor = None,
) -> ServiceContract:
    """Put `client` on `plan` from `starts_on`; the client must not already hold an active contract.

    Apps above hear of it through `contract_started`, in this transaction: the client's open
    tickets become contract tickets, its open offers are withdrawn.
    """
    # Lock the client row: two managers (or a manager and an accepting client) starting a
    # contract at the same moment queue up here instead of racing to the unique constraint.
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if (refusal := contract_start_refusal(locked, plan)) is not None:
        raise ContractError(refusal)
    if not Decimal(0) <= discount_percent <= Decimal(100):
        raise ContractError("The discount must be between 0% and 100%.")
    starts_on = starts_on or timezone.localdate()
    price = (
        monthly_price
        if monthly_price is not None
        else discounted(plan.monthly_price, discount_percent)
    )
    try:
        # A savepoint, so the unique constraint (the backstop if a lock was skipped) leaves the
        # caller's transaction usable and is reported as a business error.
        with transaction.atomic():
            contract = ServiceContract(
                client=locked,
                plan=plan,
                starts_on=starts_on,
                ends_on=term_end(starts_on, plan.term_months),
                monthly_price=price,
                discount_percent=discount_percent,
                discount_first_term_only=discount_first_term_only,
                renewal=renewal,
            )
            record_change(
                contract,
                by=by,
                reason="Started from the offer the client accepted" if from_offer else "",
                clients_own=from_offer,
            )
            contract.save(force_insert=True)
    except IntegrityError as exc:
        raise ContractError(f"{locked} already has an active contract.") from exc
    client_event_record(
        client=locked,
        kind=ClientEventKind.CONTRACT_STARTED,
        summary=history.contract_started(contract, from_offer=from_offer),
        by=by,
    )
    contract_started.send(sender=ServiceContract, contract=contract, client=locked)
    return contract


@transaction.atomic
def contract_renew(
    *, contract: ServiceContract, plan: ContractPlan | None = None, by: Actor = None
) -> ServiceContract:
    """End this term and start the next one on the same plan; return the new term.

    The price carries over, unless the discount was for the first term only: the next term is
    at the plan's price (ServiceContract.renewal_price). A client moving to another `plan` at
    renewal renews on it at that plan's price: a discount agreed for the old plan ends with it.
    """
    # Lock the contract row only: locking the joined plan too would queue every renewal and
    # cancellation of that plan behind one another.
    current = (
        ServiceContract.objects.select_for_update(of=("self",))
        .select_related("plan", "client")
        .get(pk=contract.pk)
    )
    if not current.is_active:
        raise ContractError(
            f"Only an active contract can be renewed; this one is {current.get_status_display().lower()}."
        )
    next_plan = current.plan if plan is None else plan
    changes_plan = next_plan.pk != current.plan_id
    if changes_plan and not next_plan.service_levels.exists():
        raise ContractError(
            f"The {next_plan} plan has no response targets; add them before selling it."
        )
    history_baseline(current)
    record_change(current, by=by, reason="Renewed for another term")
    current.status = ContractStatus.ENDED
    current.ended_at = timezone.now()
    current.end_reason = "Renewed for another term"
    current.save(update_fields=["status", "ended_at", "end_reason"])
    starts_on = current.ends_on + dt.timedelta(days=1)
    discount_ends = current.discount_ends_with_term or changes_plan
    # No contract_started/ended signals: the client is covered without a gap, so its tickets keep
    # their guarantees.
    renewed = ServiceContract(
        client_id=current.client_id,
        plan=next_plan,
        starts_on=starts_on,
        ends_on=term_end(starts_on, next_plan.term_months),
        monthly_price=next_plan.monthly_price if changes_plan else current.renewal_price,
        discount_percent=ZERO_PERCENT if discount_ends else current.discount_percent,
        renewal=current.renewal,
        renewed_from=current,
    )
    record_change(renewed, by=by, reason="The renewal of the term before")
    renewed.save(force_insert=True)
    client_event_record(
        client=current.client,
        kind=ClientEventKind.CONTRACT_RENEWED,
        summary=history.contract_renewed(renewed),
        by=by,
    )
    return renewed


@transaction.atomic
def contract_cancel(
    *, contract: ServiceContract, reason: str = "", by: Actor = None
) -> ServiceContract:
    """Cancel an active contract now; the client becomes transactional."""
    current = (
        ServiceContract.objects.select_for_update(of=("self", "client"))
        .select_related("client", "plan")
        .get(pk=contract.pk)
    )
    if not current.is_active:
        raise ContractError(f"This contract is already {current.get_status_display().lower()}.")
    return _end(
        current, status=ContractStatus.CANCELLED, reason=reason.strip() or "Cancelled", by=by
    )


def _end(
    contract: ServiceContract, *, status: str, reason: str, by: Actor = None
) -> ServiceContract:
    history_baseline(contract)
    contract.status = status
    contract.ended_at = timezone.now()
    contract.end_reason = reason.strip()[:300]
    record_change(contract, by=by, reason=contract.end_reason)
    contract.save(update_fields=["status", "ended_at", "end_reason"])
    cancelled = status == ContractStatus.CANCELLED
    client_event_record(
        client=contract.client,
        kind=ClientEventKind.CONTRACT_CANCELLED if cancelled else ClientEventKind.CONTRACT_ENDED,
        summary=history.contract_ended(contract),
        by=by,
        at=contract.ended_at,
    )
    contract_ended.send(sender=ServiceContract, contract=contract, client=contract.client)
    return contract


@transaction.atomic
def contracts_roll_over(*, today: dt.date | None = None) -> tuple[int, int]:
    """Renew automatic contracts whose term has run out and end the manual ones.

    "Active" is the one truth the queue and the time log read; this daily step keeps it true.
    Returns (renewed, ended).
    """
    today = today or timezone.localdate()
    renewed = ended = 0
    lapsed = (
        ServiceContract.objects.active()
        .filter(ends_on__lt=today)
        .select_related("client", "plan")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    for contract in lapsed:
        if contract.renewal == RenewalMode.AUTOMATIC:
            current = contract
            while current.ends_on < today:  # a worker that was down for a while catches up
                current = contract_renew(contract=current)
            renewed += 1
        else:
            _end(contract, status=ContractStatus.ENDED, reason="Term ended (renewed by hand only)")
            ended += 1
    return renewed, ended


@transaction.atomic
def client_drop_unless_contracted(*, client: Client, reason: str, by: Actor = None) -> Client:
    """Drop a client who holds no contract. (The rule lives here, in contracts, because "holds a
    contract" is a contracts question; the offers app withdraws open offers on `client_dropped`.)"""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if ServiceContract.objects.held_by(locked):
        raise ContractError(f"{locked} holds an active contract; cancel it first.")
    return client_drop(client=locked, reason=reason, by=by)
