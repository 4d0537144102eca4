"""What the client page's tests share: contract clients small and grown, written in bulk.

A grown client has what years of service leave: thousands of tickets (a few open, some waiting
on it), a ledger of every kind month after month, time logged under each term, contracts
renewed, offers answered, invoices issued and a long history. A small one has one of each.
The two are the same kind of client (on contract, with tickets in line and waiting), so the
page asks the same questions of both.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing.invoicing import invoices_issue
from billing.periods import Period, day_start
from billing.run import billing_run
from clients.models import Charge, ChargeKind, Client, ClientEvent, ClientEventKind
from contracts.models import ContractPlan, ContractStatus, ServiceContract
from offers.models import OfferStatus
from tests.billing.billing_helpers import FEBRUARY
from tests.conftest import DAY, NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    OfferFactory,
    PlanFactory,
    UserFactory,
)
from tickets.models import Ticket, TicketStatus, TimeEntry

MONTHLY_KINDS = (ChargeKind.LABOUR, ChargeKind.OVERAGE, ChargeKind.PAID_PRIORITY, ChargeKind.OTHER)


def ten_hour_plan(**fields: object) -> ContractPlan:
    """$400.00 a month for 10 included hours; $95.00 an hour beyond them."""
    values: dict[str, object] = {
        "monthly_price": Decimal("400.00"),
        "included_hours": Decimal("10.00"),
        "overage_hourly_rate": Decimal("95.00"),
        **fields,
    }
    return PlanFactory(**values)


def _months_back(count: int) -> list[Period]:
    """The `count` whole months before this one (the suite's March 2025), oldest first."""
    months = []
    period = Period.of(NOW.date()).previous
    for _ in range(count):
        months.append(period)
        period = period.previous
    return months[::-1]


def grown_client(name: str, *, tickets: int, years: int, contacts: int = 5) -> Client:
    """A contract client of `years` years with `tickets` tickets and all that comes with them."""
    client = ClientFactory(name=name, customer_since=NOW.date() - dt.timedelta(days=365 * years))
    for n in range(contacts):
        ContactFactory(client=client, is_primary=n == 0, name=f"{name} contact {n}")
    plan = ten_hour_plan()
    past = []
    for year in range(years - 1, 0, -1):
        starts_on = dt.date(2025 - year, 1, 1)
        past.append(
            ContractFactory(
                client=client,
                plan=plan,
                starts_on=starts_on,
                ends_on=dt.date(2025 - year, 12, 31),
                status=ContractStatus.ENDED,
                ended_at=day_start(dt.date(2025 - year + 1, 1, 1)),
                end_reason="Renewed for another term",
            )
        )
    contract = ContractFactory(client=client, plan=plan, starts_on=dt.date(2025, 1, 1))
    consultant = UserFactory()
    _tickets(client, contract, count=tickets, years=years)
    _ledger(client, years=years)
    _time(client, [*past, contract], consultant, per_month=max(1, tickets // (12 * years)))
    for status in (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.ACCEPTED)[
        : min(3, years)
    ]:
        OfferFactory(
            client=client,
            status=status,
            created_at=NOW - 400 * DAY,
            responded_at=NOW - 390 * DAY,
        )
    ClientEvent.objects.bulk_create(
        ClientEvent(
            client=client,
            kind=ClientEventKind.CONTRACT_RENEWED,
            summary=f"Renewed, year {n}",
            at=NOW - (n + 1) * DAY,
        )
        for n in range(max(1, tickets // 50))
    )
    _invoices(client, months=3 if years > 1 else 1)
    return client


def _tickets(client: Client, contract: ServiceContract, *, count: int, years: int) -> None:
    """Mostly closed over the years; of the last ones, some open in line and one waiting."""
    span = dt.timedelta(days=365 * years)
    built = []
    for n in range(count):
        opened = NOW - span + span * n / count
        ticket = ContractTicketFactory.build(contract=contract, client=client, opened_at=opened)
        if n == count - 1:
            ticket.status = TicketStatus.WAITING_ON_CLIENT
            ticket.sla_paused_at = NOW - DAY
        elif n < count - max(2, count // 40):
            ticket.status = TicketStatus.CLOSED
            ticket.first_response_at = opened + dt.timedelta(hours=1)
            ticket.resolved_at = ticket.closed_at = opened + dt.timedelta(hours=5)
        built.append(ticket)
    Ticket.objects.bulk_create(built, batch_size=500)


def _ledger(client: Client, *, years: int) -> None:
    charges = []
    for period in _months_back(12 * years):
        for kind in MONTHLY_KINDS:
            charges.append(
                Charge(
                    client=client,
                    kind=kind,
                    amount=Decimal("75.00"),
                    hours=Decimal("1.00")
                    if kind in (ChargeKind.LABOUR, ChargeKind.OVERAGE)
                    else None,
                    description=f"{kind} of {period}",
                    occurred_at=period.starts_at() + DAY,
                )
            )
    Charge.objects.bulk_create(charges, batch_size=500)


def _time(
    client: Client, terms: list[ServiceContract], consultant: object, *, per_month: int
) -> None:
    ticket = Ticket.objects.filter(client=client).order_by("pk").first()
    entries = []
    for term in terms:
        day = term.starts_on
        while day <= min(term.ends_on, NOW.date()):
            for _ in range(per_month):
                entries.append(
                    TimeEntry(
                        ticket=ticket,
                        consultant=consultant,
                        contract=term,
                        work_date=day,
                        minutes=30,
                        covered_minutes=30,
                    )
                )
            day += dt.timedelta(days=28)
    TimeEntry.objects.bulk_create(entries, batch_size=500)


def _invoices(client: Client, *, months: int) -> None:
    """Bill and invoice the last `months` whole months through the billing run, as a practice
    that bills from this app does."""
    period = FEBRUARY
    for _ in range(months - 1):
        period = period.previous
    for _ in range(months):
        billing_run(period=period, now=NOW)
        invoices_issue(period=period, client_ids=[client.pk], now=NOW)
        period = period.next
