"""Invoices: the drafts of a month, issuing them with gapless numbers, and credit notes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from billing.models import (
    NUMBER_PREFIX,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceSequence,
    RateCard,
)
from billing.periods import Period
from billing.pricing import priced_as
from billing.services import BillingError, acting_staff, contracts_to_bill, period_refusal
from clients.models import Charge, ChargeKind, Client, Contact
from clients.money import ZERO, cents

if TYPE_CHECKING:
    from clients.services import Actor

# Clients invoiced per transaction: a fixed number of queries each.
BATCH_SIZE = 500


@dataclass
class DraftRow:
    """One client's draft for a period: the totals by kind of what is not yet invoiced."""

    client_id: int
    client_name: str
    totals: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    charges: int = 0

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def uninvoiced(period: Period) -> QuerySet[Charge]:
    """Charges up to the end of `period` that are on no invoice yet."""
    return Charge.objects.filter(occurred_at__lt=period.ends_at(), invoice_line__isnull=True)


def draft_charges(period: Period, client_ids: Sequence[int] | None = None) -> QuerySet[Charge]:
    """What the drafts of `period` hold: charges not yet invoiced, of clients not yet invoiced
    for it (a client invoiced for the month has its later charges on the next month's)."""
    invoiced = Invoice.objects.invoices().for_period(period).values("client_id")
    charges = uninvoiced(period).exclude(client__in=invoiced)
    return charges if client_ids is None else charges.filter(client_id__in=client_ids)


def drafts(
    period: Period,
    client_ids: Sequence[int] | None = None,
    *,
    offset: int = 0,
    limit: int | None = None,
) -> list[DraftRow]:
    """The drafts of `period`: per client not yet invoiced for it, what its invoice would hold.

    With `limit`, one page of them in client-name order, still in one query: the page's clients
    are a sliced subquery on the clients table, so the query count stays the same whatever the
    number of drafts (10,000 clients in the benchmark).
    """
    charges = draft_charges(period, client_ids)
    if limit is not None:
        page = (
            Client.objects.filter(pk__in=charges.values("client_id"))
            .order_by("name", "pk")
            .values("pk")[offset : offset + limit]
        )
        charges = charges.filter(client_id__in=page)
    rows = (
        charges.order_by()
        .values("client_id", "client__name", "kind")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .order_by("client__name", "client_id")
    )
    by_client: dict[int, DraftRow] = {}
    for row in rows:
        draft = by_client.get(row["client_id"])
        if draft is None:
            draft = by_client[row["client_id"]] = DraftRow(
                client_id=row["client_id"], client_name=row["client__name"]
            )
        draft.totals[row["kind"]] += row["total"]
        draft.charges += row["count"]
    return list(by_client.values())


@dataclass(frozen=True)
class DraftTotals:
    """All the drafts of a period together: how many clients, and the totals by kind."""

    clients: int
    totals: dict[str, Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), ZERO)


def draft_totals(period: Period) -> DraftTotals:
    """Count and add up the drafts of `period` in one query (the page of drafts shows a slice)."""
    charges = draft_charges(period)
    # Aliases prefixed: "contract_fee" is also the name of a reverse relation on Charge.
    sums = {f"sum_{kind}": Sum("amount", filter=Q(kind=kind)) for kind in ChargeKind.values}
    row = charges.aggregate(clients=Count("client_id", distinct=True), **sums)
    return DraftTotals(
        clients=row["clients"],
        totals={kind: row[f"sum_{kind}"] or ZERO for kind in ChargeKind.values},
    )


def _next_numbers(kind: str, year: int, count: int) -> range:
    """Reserve `count` consecutive numbers of `kind` in `year`, under a lock held to commit.

    Gapless: the numbers are taken in the same transaction as the invoices that carry them, so
    a rollback gives them back.
    """
    InvoiceSequence.objects.get_or_create(kind=kind, year=year)
    sequence = InvoiceSequence.objects.select_for_update().get(kind=kind, year=year)
    first = sequence.last + 1
    sequence.last += count
    sequence.save(update_fields=["last"])
    return range(first, first + count)


def _number(kind: str, year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX[InvoiceKind(kind)]}-{year}-{sequence:05d}"


def invoices_issue(
    *,
    period: Period,
    by: Actor = None,
    client_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Issue one invoice per client for `period` with everything not yet invoiced; return how many.

    Raises BillingError for a period that has not ended, one whose contracts the run has not
    billed yet (their invoices would lack the fee), or one whose invoices are all issued.
    `now` is the moment of issue: the invoices' date, their year's numbers and their due date.
    """
    now = now or timezone.now()
    refusal = period_refusal(period, timezone.localdate(now))
    if refusal:
        raise BillingError(refusal)
    wanted = None if client_ids is None else sorted(set(client_ids))
    unbilled = contracts_to_bill(period)
    if wanted is not None:
        unbilled = unbilled.filter(client_id__in=wanted)
    if unbilled.exists():
        raise BillingError(
            f"Post the contract fees and overage for {period.label} first: a client's invoice "
            "would go out without its contract fee."
        )
    pending = clients_to_invoice(period, wanted)
    if not pending:
        issued = Invoice.objects.invoices().for_period(period)
        if wanted is not None:
            issued = issued.filter(client_id__in=wanted)
        if issued.exists():
            raise BillingError(
                f"{period.label} is already invoiced; charges posted since then go on "
                f"{period.next.label}'s invoices."
            )
        return 0
    count = 0
    for start in range(0, len(pending), BATCH_SIZE):
        with transaction.atomic():
            count += _issue_batch(pending[start : start + BATCH_SIZE], period, by, now)
    return count


def clients_to_invoice(period: Period, wanted: list[int] | None) -> list[int]:
    charges = draft_charges(period, wanted)
    return list(charges.order_by("client_id").values_list("client_id", flat=True).distinct())


def _issue_batch(client_ids: list[int], period: Period, by: Actor, now: dt.datetime) -> int:
    kind = InvoiceKind.INVOICE
    today = timezone.localdate(now)
    numbers = iter(_next_numbers(kind, today.year, len(client_ids)))
    # Read after the sequence lock, which every issue takes: an issue that ran meanwhile has
    # committed its invoices and lines, so nothing is billed twice (the OneToOne on the
    # charge is the backstop).
    done = set(
        Invoice.objects.invoices()
        .for_period(period)
        .filter(client_id__in=client_ids)
        .values_list("client_id", flat=True)
    )
    charges: dict[int, list[Charge]] = defaultdict(list)
    for charge in (
        uninvoiced(period)
        .filter(client_id__in=client_ids)
        .order_by("client_id", "occurred_at", "pk")
    ):
        if charge.client_id not in done:
            charges[charge.client_id].append(charge)
    clients = Client.objects.in_bulk(list(charges))
    emails = dict(
        Contact.objects.primary()
        .filter(client_id__in=list(charges))
        .values_list("client_id", "email")
    )
    card = RateCard.load()
    due_on = today + dt.timedelta(days=card.payment_terms_days)
    invoices = []
    for client_id, client_charges in charges.items():
        sequence = next(numbers)
        invoices.append(
            Invoice(
                kind=kind,
                number=_number(kind, today.year, sequence),
                year=today.year,
                sequence=sequence,
                client_id=client_id,
                period=period.first_day,
                issued_at=now,
                issued_by=acting_staff(by),
                due_on=due_on,
                issuer=settings.PRACTICE_NAME,
                issuer_details=card.invoice_details,
                bill_to=clients[client_id].name,
                bill_to_email=emails.get(client_id, ""),
                total=sum((c.amount for c in client_charges), ZERO),
            )
        )
    _give_back_unused(kind, today.year, len(client_ids) - len(invoices))
    Invoice.objects.bulk_create(invoices)
    lines = [
        _line_for(invoice, position, charge)
        for invoice in invoices
        for position, charge in enumerate(charges[invoice.client_id], start=1)
    ]
    InvoiceLine.objects.bulk_create(lines)
    return len(invoices)


def _give_back_unused(kind: str, year: int, unused: int) -> None:
    # Numbers were reserved for every client of the batch; one invoiced meanwhile by another
    # issue takes none, and the sequence must not skip.
    if unused:
        sequence = InvoiceSequence.objects.get(kind=kind, year=year)
        sequence.last -= unused
        sequence.save(update_fields=["last"])


def _line_for(invoice: Invoice, position: int, charge: Charge) -> InvoiceLine:
    hourly = charge.hours is not None and charge.rate is not None
    quantity, unit_amount, description = priced_as(
        charge.hours if hourly and charge.hours is not None else Decimal(1),
        charge.rate if hourly and charge.rate is not None else charge.amount,
        charge.amount,
        charge.description,
    )
    return InvoiceLine(
        invoice=invoice,
        position=position,
        charge=charge,
        kind=charge.kind,
        description=description[:300],
        service_date=timezone.localdate(charge.occurred_at),
        quantity=quantity,
        unit_amount=unit_amount,
        amount=charge.amount,
    )


@transaction.atomic
def credit_note_issue(
    *, invoice: Invoice, line_ids: Iterable[int] | None = None, reason: str, by: Actor = None
) -> Invoice:
    """Correct an issued invoice: credit some of its lines (all when none are named)."""
    reason = reason.strip()
    if not reason:
        raise BillingError("Say why the invoice is being credited; the client will read it.")
    if invoice.is_credit_note:
        raise BillingError("A credit note cannot itself be credited.")
    # Locked: two credit notes at once must not both credit the same line.
    Invoice.objects.select_for_update().get(pk=invoice.pk)
    lines = InvoiceLine.objects.filter(invoice=invoice).not_credited().order_by("position")
    if line_ids is not None:
        wanted = set(line_ids)
        lines = lines.filter(pk__in=wanted)
    chosen = list(lines)
    if not chosen:
        raise BillingError("Those lines are credited already; nothing is left to credit.")
    today = timezone.localdate()
    kind = InvoiceKind.CREDIT_NOTE
    (sequence,) = _next_numbers(kind, today.year, 1)
    note = Invoice(
        kind=kind,
        number=_number(kind, today.year, sequence),
        year=today.year,
        sequence=sequence,
        client_id=invoice.client_id,
        period=Period.of(today).first_day,
        issued_by=acting_staff(by),
        due_on=today,
        issuer=settings.PRACTICE_NAME,
        issuer_details=RateCard.load().invoice_details,
        bill_to=invoice.bill_to,
        bill_to_email=invoice.bill_to_email,
        total=-sum((line.amount for line in chosen), ZERO),
        credits=invoice,
        reason=reason[:300],
    )
    note.save()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=note,
            position=position,
            credited_line=line,
            kind=line.kind,
            description=f"Credit for {invoice.number} line {line.position}: {line.description}"[
                :300
            ],
            service_date=line.service_date,
            quantity=line.quantity,
            unit_amount=-line.unit_amount,
            amount=-line.amount,
        )
        for position, line in enumerate(chosen, start=1)
    )
    return note


def invoice_balance(invoice: Invoice) -> Decimal:
    """The invoice's total less what credit notes took off it."""
    credited = invoice.credit_notes.aggregate(total=Sum("total"))["total"] or ZERO
    return cents(invoice.total + credited)
