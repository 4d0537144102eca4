"""Everything about one client on one page (issue 16): the reads behind /clients/<id>/.

A fixed number of queries whatever the client's size (5 tickets or 5,000, a month of ledger or
three years of it): every part is one query with a LIMIT, or one aggregate on an index that
starts with the client (the ledger's year by kind; the six months' hours by term and month).
The open tickets are the queue's own rows (`tickets.queue.queue_page`) with their places in
the whole line. Figures come from the rules that bill them: a contract month is priced by
`billing.services.term_month`, as the monthly run prices it, and the word on offers is the
campaign's own (`offers.outlook`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from billing.models import Invoice, RateCard
from billing.periods import Period, months_between
from billing.services import term_month
from clients.figures import Chart, Money, Series, Table
from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    Contact,
    trailing_year_start,
)
from clients.money import ZERO, as_hours, cents, hours, money
from contracts.models import Priority, ServiceContract, ServiceLevel
from offers.campaign import count_rows
from offers.models import ConversionOffer
from offers.outlook import Outlook, campaign_outlook
from tickets.models import Ticket, TicketStatus, TimeEntry
from tickets.queue import QueueFilters, QueuePage, queue_page

HOURS_MONTHS = 6  # the months of included hours in the chart, this one last
LINE_SHOWN = 10  # open tickets shown of each kind (in line, waiting); the queue has the rest
RECENT_SHOWN = 10
TERMS_SHOWN = 24  # a client's contract terms read: the current and past ones
CONTACTS_SHOWN = 50
INVOICES_SHOWN = 8
OFFERS_SHOWN = 10
EVENTS_SHOWN = 10
# The ledger's kinds in the order the page lists them, in the page's words.
KINDS = (
    (ChargeKind.CONTRACT_FEE, "Contract fees"),
    (ChargeKind.LABOUR, "Labour"),
    (ChargeKind.OVERAGE, "Overage"),
    (ChargeKind.PAID_PRIORITY, "Paid priority"),
    (ChargeKind.OTHER, "Other"),
)
CLOSED_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


def clients_with_open_tickets() -> QuerySet[Client]:
    """Clients, each with `in_line` and `waiting`: its open tickets in the working line and
    those waiting on it, two COUNT(*)s on the ticket index that starts with the client."""
    tickets = Ticket.objects.filter(client=OuterRef("pk"))
    return Client.objects.annotate(
        in_line=count_rows(tickets.actionable()),
        waiting=count_rows(tickets.filter(status=TicketStatus.WAITING_ON_CLIENT)),
    )


def hours_text(minutes: int) -> str:
    """Minutes as hours the way people write them: "13", "12.5", "0.75"."""
    return hours(as_hours(minutes))


# --- Included hours ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HoursMonth:
    """One month of a contract client's included hours, summed over the terms that cover it
    (a month with a renewal has two, each with its own share of the hours)."""

    period: Period
    covered: bool = False  # a term covers a day of the month
    included_minutes: int = 0
    used_minutes: int = 0
    left_minutes: int = 0
    overage_minutes: int = 0
    overage: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def included(self) -> str:
        return hours_text(self.included_minutes)

    @property
    def used(self) -> str:
        return hours_text(self.used_minutes)

    @property
    def left(self) -> str:
        return hours_text(self.left_minutes)

    @property
    def over(self) -> str:
        return hours_text(self.overage_minutes)

    # The meter (<meter>, no inline style under the CSP): amber from 75% of the hours, red
    # past them.
    @property
    def meter_max(self) -> int:
        return max(self.included_minutes, self.used_minutes, 1)

    @property
    def meter_low(self) -> int:
        return self.included_minutes * 3 // 4

    @property
    def meter_high(self) -> int:
        return self.included_minutes


def six_months(now: dt.datetime) -> list[Period]:
    """The months of the hours chart: the five before this one, and this one."""
    this = Period.of(timezone.localdate(now))
    first = this
    for _ in range(HOURS_MONTHS - 1):
        first = first.previous
    return months_between(first, this)


def contract_hours(
    terms: Sequence[ServiceContract],
    worked: Mapping[tuple[int, dt.date], int],
    months: Sequence[Period],
) -> list[HoursMonth]:
    """Each month's included hours, use and overage under the terms that cover it; `worked`
    holds the minutes logged per (term id, first day of the month). No query: each term's month
    is priced by billing's own rule (billing.services.term_month), as the monthly run bills it."""
    shown = []
    for period in months:
        totals = {"included": 0, "used": 0, "left": 0, "over": 0}
        overage = fee = ZERO
        covered = False
        for term in terms:
            days = period.days_within(term.starts_on, term.last_day)
            if days <= 0:
                continue
            covered = True
            minutes = worked.get((term.pk, period.first_day), 0)
            month = term_month(term, period, worked_minutes=minutes)
            totals["included"] += month.included_minutes
            totals["used"] += minutes
            totals["left"] += max(0, month.included_minutes - minutes)
            totals["over"] += month.overage_minutes
            overage += month.overage
            fee += month.fee
        shown.append(
            HoursMonth(
                period=period,
                covered=covered,
                included_minutes=totals["included"],
                used_minutes=totals["used"],
                left_minutes=totals["left"],
                overage_minutes=totals["over"],
                overage=overage,
                fee=fee,
            )
        )
    return shown


def client_terms(client: Client) -> list[ServiceContract]:
    """The client's contract terms, newest first, with their plans, calendars and targets (two
    queries: the terms, and the targets of their plans)."""
    return list(
        ServiceContract.objects.for_client(client)
        .select_related("plan__calendar")
        .prefetch_related("plan__service_levels")
        .order_by("-starts_on", "-pk")[:TERMS_SHOWN]
    )


def minutes_worked(
    terms: Sequence[ServiceContract], months: Sequence[Period]
) -> dict[tuple[int, dt.date], int]:
    """Minutes logged under each of `terms` in each of `months`: one aggregate on the time
    entries' (contract, work_date) index; nothing asked when no term covers the months."""
    first, last = months[0], months[-1]
    ids = [t.pk for t in terms if t.starts_on <= last.last_day and t.last_day >= first.first_day]
    if not ids:
        return {}
    rows = (
        TimeEntry.objects.filter(
            contract_id__in=ids,
            work_date__gte=first.first_day,
            work_date__lte=last.last_day,
        )
        .annotate(month=TruncMonth("work_date"))
        .order_by()
        .values("contract_id", "month")
        .annotate(minutes=Sum("minutes"))
    )
    return {(row["contract_id"], row["month"]): row["minutes"] for row in rows}


def hours_table(months: Sequence[HoursMonth]) -> Table:
    """The months a contract covered, of the six, as a table and its chart: the hours used
    against those included, and the overage."""
    return Table(
        slug="hours",
        caption="Included hours, last six months",
        columns=("Month", "Included (h)", "Used (h)", "Left (h)", "Overage (h)", "Overage"),
        rows=[
            (
                m.period.label,
                as_hours(m.included_minutes),
                as_hours(m.used_minutes),
                as_hours(m.left_minutes),
                as_hours(m.overage_minutes),
                Money(m.overage),
            )
            for m in months
            if m.covered
        ],
        chart=Chart(
            kind="bar",
            series=(Series(column=2), Series(column=1, kind="line", dashed=True)),
            y_label="hours",
        ),
        empty="No contract covered these months.",
    )


# --- Money -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MoneyYear:
    """What the client was billed in the last twelve months, by kind, and this month's labour."""

    table: Table
    total: Decimal
    labour_this_month: Decimal
    labour_hours_this_month: Decimal


def money_year(client: Client, now: dt.datetime) -> MoneyYear:
    """One aggregate of the ledger's last twelve months (the client list's revenue window), by
    kind, on the charges' (client, occurred_at) index."""
    month_start = Period.of(timezone.localdate(now)).starts_at()
    this_month = Q(occurred_at__gte=month_start)
    rows = {
        row["kind"]: row
        for row in Charge.objects.filter(client=client, occurred_at__gte=trailing_year_start(now))
        .order_by()
        .values("kind")
        .annotate(
            total=Sum("amount"),
            charges=Count("pk"),
            month_total=Sum("amount", filter=this_month),
            month_hours=Sum("hours", filter=this_month),
        )
    }
    table = Table(
        slug="money",
        caption="By kind, last 12 months",
        columns=("Kind", "Charges", "Amount"),
        rows=[
            (
                label,
                rows.get(kind, {}).get("charges", 0),
                Money(cents(rows.get(kind, {}).get("total") or ZERO)),
            )
            for kind, label in KINDS
        ],
    )
    labour = rows.get(ChargeKind.LABOUR, {})
    return MoneyYear(
        table=table,
        total=cents(sum((row["total"] for row in rows.values()), ZERO)),
        labour_this_month=cents(labour.get("month_total") or ZERO),
        labour_hours_this_month=labour.get("month_hours") or ZERO,
    )


@dataclass(frozen=True)
class InvoiceRow:
    invoice: Invoice
    status: str
    status_class: str  # the badge's colours
    past_due: bool  # its due date has passed with an amount not credited (no payments are kept)


def invoice_rows(client: Client, today: dt.date) -> list[InvoiceRow]:
    """The client's latest invoices and credit notes with where each stands (one query).

    Payments are kept in the accounting software the invoices are exported to, not here, so
    an invoice is issued, credited in part or in full, or a credit note; past its due date is
    said beside the date, as the invoice's own page says it.
    """
    invoices = (
        Invoice.objects.filter(client=client)
        .select_related("credits")
        .with_credited()
        .order_by("-issued_at", "-pk")[:INVOICES_SHOWN]
    )
    rows = []
    for invoice in invoices:
        credited = -(getattr(invoice, "credited", None) or ZERO)
        if invoice.is_credit_note:
            status, css = f"Credit note for {invoice.credits.number}", "text-bg-secondary"  # type: ignore[union-attr]
        elif credited > 0 and credited >= invoice.total:
            status, css = "Credited in full", "text-bg-secondary"
        elif credited > 0:
            status, css = f"{money(credited)} credited", "text-bg-info"
        else:
            status, css = "Issued", "text-bg-light border"
        past_due = invoice.is_overdue(today) and credited < invoice.total
        rows.append(InvoiceRow(invoice, status, css, past_due))
    return rows


# --- The whole page --------------------------------------------------------------------------
@dataclass
class ClientPage:
    client: Client
    now: dt.datetime
    contacts: list[Contact]
    terms: list[ServiceContract]  # newest first
    hours: list[HoursMonth]  # the six months, oldest first
    money: MoneyYear
    line: QueuePage  # open tickets in the working line, in its order
    waiting: QueuePage  # open tickets waiting on the client
    recent: list[Ticket]  # the latest resolved or closed
    invoices: list[InvoiceRow]
    offers: list[ConversionOffer]  # newest first
    outlook: Outlook
    events: list[ClientEvent]

    @cached_property
    def rate_card(self) -> RateCard:
        """What break-fix work costs (read only for a client without a contract)."""
        return RateCard.load()

    @cached_property
    def contract(self) -> ServiceContract | None:
        """The active term, if the client holds one."""
        return next((t for t in self.terms if t.is_active), None)

    @property
    def targets(self) -> list[ServiceLevel]:
        """The active plan's response and resolution targets, most urgent first."""
        if (contract := self.contract) is None:
            return []
        order = [str(p) for p in reversed(Priority)]
        return sorted(contract.plan.service_levels.all(), key=lambda t: order.index(t.priority))

    @property
    def next_term_starts_on(self) -> dt.date | None:
        contract = self.contract
        return contract.ends_on + dt.timedelta(days=1) if contract is not None else None

    @property
    def past_terms(self) -> list[ServiceContract]:
        return [t for t in self.terms if not t.is_active][:5]

    @property
    def this_month(self) -> HoursMonth | None:
        month = self.hours[-1] if self.hours else None
        return month if month is not None and month.covered else None

    @cached_property
    def hours_table(self) -> Table | None:
        """The six months, when a contract covered any of them."""
        return hours_table(self.hours) if any(m.covered for m in self.hours) else None

    @property
    def open_offer(self) -> ConversionOffer | None:
        # At most one is open (one_open_offer_per_client), and no offer is made while it is,
        # so it is the newest.
        return self.offers[0] if self.offers and self.offers[0].is_open else None

    @property
    def past_offers(self) -> list[ConversionOffer]:
        return [o for o in self.offers if not o.is_open]

    @property
    def open_tickets(self) -> int:
        return int(getattr(self.client, "in_line", 0)) + int(getattr(self.client, "waiting", 0))


def client_page(client: Client, user: User, now: dt.datetime | None = None) -> ClientPage:
    """Everything the page shows about `client` (fetched by clients_with_open_tickets())."""
    now = now or timezone.now()
    terms = client_terms(client)
    months = six_months(now)
    open_tickets = QueueFilters(client=client.pk)
    return ClientPage(
        client=client,
        now=now,
        contacts=list(client.contacts.order_by("-is_primary", "name")[:CONTACTS_SHOWN]),
        terms=terms,
        hours=contract_hours(terms, minutes_worked(terms, months), months),
        money=money_year(client, now),
        line=queue_page(open_tickets, user, size=LINE_SHOWN, every_place=True),
        waiting=queue_page(QueueFilters(client=client.pk, waiting=True), user, size=LINE_SHOWN),
        recent=list(
            Ticket.objects.filter(client=client, status__in=CLOSED_STATUSES)
            .select_related("assignee")
            .order_by("-opened_at", "-pk")[:RECENT_SHOWN]
        ),
        invoices=invoice_rows(client, timezone.localdate(now)),
        offers=list(
            ConversionOffer.objects.for_client(client.pk)
            .select_related("plan", "terms")
            .order_by("-created_at", "-pk")[:OFFERS_SHOWN]
        ),
        outlook=campaign_outlook(client, now=now),
        events=list(
            ClientEvent.objects.filter(client=client)
            .select_related("by")
            .order_by("-at", "-pk")[:EVENTS_SHOWN]
        ),
    )
