"""A client with a full past, built through the services, for the data-rights tests.

Every personal or free-text value carries the client's label, so a test can look for it in
any row and tell one client's data from another's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Sum

from billing.invoicing import invoices_issue
from billing.models import Invoice, InvoiceLine
from billing.periods import Period
from clients.models import Charge, ChargeKind, Client, ClientEvent, Contact, OutboundEmail
from clients.services import client_drop
from contracts.models import ServiceContract
from contracts.services import contract_cancel
from offers.models import ConversionOffer
from offers.services import offer_accept
from tests.conftest import NOW
from tests.factories import ChargeFactory, ClientFactory, ContactFactory, OfferFactory
from tickets.models import Ticket, TicketEvent, TicketStatus, TimeEntry
from tickets.services import ticket_change_status, ticket_open, ticket_reply, time_log

FEB_20 = dt.datetime(2025, 2, 20, 15, 0, tzinfo=dt.UTC)
FEBRUARY = Period(2025, 2)


@dataclass
class Past:
    client: Client
    label: str
    tickets: list[Ticket] = field(default_factory=list)

    @property
    def personal(self) -> list[str]:
        """Every personal value and text the erasure must replace."""
        label = self.label
        return [
            f"Jane {label}roe",
            f"jane@{label.lower()}.example",
            f"Sam {label}poe",
            f"sam@{label.lower()}.example",
            "555-0101",
            "555-0102",
            f"{label} reception PC",
            f"Jane at {label} says",
            f"on my way to {label}",
            f"PSU at {label}",
            f"{label} front desk",
            f"{label} moved to another provider",
            f"{label} asked us to stop",
            f"Toner for {label}",
            "203.0.113.7",
            f"{label}Browser",
            f"{label} Dental LLC",
        ]


def client_with_a_past(
    time_machine: Any, *, manager: User, consultant: User, label: str, tickets: int = 1
) -> Past:
    """A break-fix client that worked with us in February (tickets, replies, time, an invoice),
    accepted an offer in March, cancelled the contract and was dropped."""
    time_machine.move_to(FEB_20, tick=False)
    client = ClientFactory(name=f"{label} Dental LLC", notes=f"{label} front desk opens at 8")
    jane = ContactFactory(
        client=client, name=f"Jane {label}roe", email=f"jane@{label.lower()}.example"
    )
    Contact.objects.filter(pk=jane.pk).update(phone="555-0101")
    ContactFactory(
        client=client,
        name=f"Sam {label}poe",
        email=f"sam@{label.lower()}.example",
        phone="555-0102",
        is_primary=False,
    )
    past = Past(client=client, label=label)
    for n in range(tickets):
        ticket = ticket_open(
            client=client,
            subject=f"{label} reception PC {n} will not boot",
            description=f"Jane at {label} says the screen stays black",
            contact=jane,
            opened_by=consultant,
        )
        ticket_reply(ticket=ticket, body=f"Hi Jane, on my way to {label}.", actor=consultant)
        time_log(
            ticket=ticket,
            consultant=consultant,
            minutes=90,
            work_date=FEB_20.date(),
            note=f"Replaced the PSU at {label}",
        )
        ticket_change_status(
            ticket=ticket, status=TicketStatus.RESOLVED, actor=consultant, note=f"PSU at {label}"
        )
        past.tickets.append(ticket)
    time_machine.move_to(NOW, tick=False)
    invoices_issue(period=FEBRUARY, by=manager, client_ids=[client.pk])
    ChargeFactory(
        client=client, kind=ChargeKind.OTHER, description=f"Toner for {label}", occurred_at=NOW
    )
    offer = OfferFactory(client=client, contact=jane, email=jane.email)
    contract = offer_accept(
        offer=offer,
        signer_name=f"Jane {label}roe",
        signer_role="Practice manager",
        ip="203.0.113.7",
        user_agent=f"{label}Browser/1.0",
    )
    contract_cancel(contract=contract, reason=f"{label} moved to another provider", by=manager)
    client_drop(client=client, reason=f"{label} asked us to stop", by=manager)
    # The admin's own log of changes names the rows as they were.
    for obj, flag, message in [
        (jane, ADDITION, "[]"),
        (client, CHANGE, f'[{{"added": {{"name": "contact", "object": "{jane}"}}}}]'),
    ]:
        LogEntry.objects.create(
            user=manager,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=flag,
            change_message=message,
        )
    return past


def erasable_rows(client: Client) -> str:
    """Every row the erasure governs, as text: what must hold no personal data afterwards."""
    rows: list[Any] = [
        list(Client.objects.filter(pk=client.pk).values()),
        list(Contact.objects.filter(client=client).values()),
        list(Ticket.objects.filter(client=client).values()),
        list(TicketEvent.objects.filter(ticket__client=client).values()),
        list(TimeEntry.objects.filter(ticket__client=client).values()),
        list(ConversionOffer.objects.filter(client=client).values()),
        list(ServiceContract.objects.filter(client=client).values()),
        # The audit trail's copies of the offers and contracts, and the reasons services gave.
        list(ConversionOffer.history.filter(client_id=client.pk).values()),
        list(ServiceContract.history.filter(client_id=client.pk).values()),
        list(Charge.objects.filter(client=client, invoice_line__isnull=True).values()),
        list(ClientEvent.objects.filter(client=client).values()),
        list(LogEntry.objects.values()),
        # The outbox: the acknowledgements, replies and acceptance notes as they were sent.
        list(OutboundEmail.objects.filter(client=client).values()),
    ]
    return repr(rows)


def kept_figures(client: Client) -> dict[str, Any]:
    """What the erasure keeps: the accounts as issued, the ledger's totals and the counts the
    insights read."""
    return {
        "invoices": list(
            Invoice.objects.filter(client=client)
            .order_by("pk")
            .values_list("number", "total", "bill_to", "bill_to_email", "issued_at")
        ),
        "invoice_lines": list(
            InvoiceLine.objects.filter(invoice__client=client)
            .order_by("pk")
            .values_list("description", "amount", "quantity", "unit_amount")
        ),
        "invoiced_charges": list(
            Charge.objects.filter(client=client, invoice_line__isnull=False)
            .order_by("pk")
            .values_list("description", "amount")
        ),
        "ledger": Charge.objects.filter(client=client).aggregate(
            total=Sum("amount"), hours=Sum("hours"), count=Count("pk")
        ),
        "ledger_by_kind": dict(
            Charge.objects.filter(client=client)
            .order_by()
            .values_list("kind")
            .annotate(total=Sum("amount"))
        ),
        "tickets_by_status": dict(
            Ticket.objects.filter(client=client)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        ),
        "time": TimeEntry.objects.filter(ticket__client=client).aggregate(
            minutes=Sum("minutes"),
            covered=Sum("covered_minutes"),
            billable=Sum("billable_minutes"),
            entries=Count("pk"),
        ),
        "offers_by_status": dict(
            ConversionOffer.objects.filter(client=client)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        ),
        "contracts_by_status": dict(
            ServiceContract.objects.filter(client=client)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        ),
        "activity_lines": TicketEvent.objects.filter(ticket__client=client).count(),
        "history_kinds": list(
            ClientEvent.objects.filter(client=client).order_by("pk").values_list("kind", "at")
        ),
    }
