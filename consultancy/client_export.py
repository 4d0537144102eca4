"""Everything the practice holds about one client, as one JSON document (its data rights).

The export reads every app (clients, contracts, billing, offers, tickets), so it lives here, in
the top layer, which may import them all (docs/architecture.md, "Client data rights"). It reads
each table once, whatever the client's size: eleven SELECTs and the history's INSERT.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from billing.models import Invoice, InvoiceLine
from clients.models import Charge, Client, ClientEvent, ClientEventKind
from clients.people import staff_name
from clients.services import client_event_record
from contracts.models import ServiceContract
from offers.models import ConversionOffer
from tickets.models import Ticket, TicketEvent, TimeEntry

if TYPE_CHECKING:
    import datetime as dt

    from django.contrib.auth.models import User

    from clients.services import Actor

EXPORT_FORMAT = "consultancy-crm/client-export/1"


def _person(user: User | None) -> str | None:
    return staff_name(user) if user is not None else None


def _client(client: Client) -> dict[str, Any]:
    return {
        "id": client.pk,
        "name": client.name,
        "status": client.status,
        "customer_since": client.customer_since,
        "created_at": client.created_at,
        "notes": client.notes,
        "offers_opt_out": client.offers_opt_out,
        "dropped_at": client.dropped_at,
        "drop_reason": client.drop_reason,
        "erased_at": client.erased_at,
    }


def _contacts(client: Client) -> list[dict[str, Any]]:
    return [
        {"id": c.pk, "name": c.name, "email": c.email, "phone": c.phone, "primary": c.is_primary}
        for c in client.contacts.order_by("pk")
    ]


def _contracts(client: Client) -> list[dict[str, Any]]:
    rows = ServiceContract.objects.filter(client=client).select_related("plan").order_by("pk")
    return [
        {
            "id": c.pk,
            "plan": c.plan.name,
            "status": c.status,
            "starts_on": c.starts_on,
            "ends_on": c.ends_on,
            "monthly_price": c.monthly_price,
            "discount_percent": c.discount_percent,
            "discount_first_term_only": c.discount_first_term_only,
            "renewal": c.renewal,
            "renewed_from": c.renewed_from_id,
            "created_at": c.created_at,
            "ended_at": c.ended_at,
            "end_reason": c.end_reason,
        }
        for c in rows
    ]


def _tickets(client: Client) -> list[dict[str, Any]]:
    events: dict[int, list[dict[str, Any]]] = {}
    for e in TicketEvent.objects.filter(ticket__client=client).select_related("actor"):
        events.setdefault(e.ticket_id, []).append(
            {
                "kind": e.kind,
                "at": e.created_at,
                "by": _person(e.actor),
                "body": e.body,
                "from": e.from_value,
                "to": e.to_value,
            }
        )
    time: dict[int, list[dict[str, Any]]] = {}
    entries = TimeEntry.objects.filter(ticket__client=client).select_related("consultant")
    for t in entries.order_by("work_date", "pk"):
        time.setdefault(t.ticket_id, []).append(
            {
                "id": t.pk,
                "work_date": t.work_date,
                "consultant": _person(t.consultant),
                "minutes": t.minutes,
                "covered_minutes": t.covered_minutes,
                "billable_minutes": t.billable_minutes,
                "after_hours": t.after_hours,
                "contract": t.contract_id,
                "charge": t.charge_id,
                "note": t.note,
                "logged_at": t.created_at,
            }
        )
    tickets = Ticket.objects.filter(client=client).select_related("assignee").order_by("pk")
    return [
        {
            "id": t.pk,
            "subject": t.subject,
            "description": t.description,
            "contact": t.contact_id,
            "priority": t.priority,
            "status": t.status,
            "assignee": _person(t.assignee),
            "contract": t.contract_id,
            "paid_priority": t.paid_priority,
            "priority_charge": t.priority_charge_id,
            "opened_at": t.opened_at,
            "first_response_at": t.first_response_at,
            "resolved_at": t.resolved_at,
            "closed_at": t.closed_at,
            "response_due_at": t.response_due_at,
            "resolution_due_at": t.resolution_due_at,
            "activity": events.get(t.pk, []),
            "time_entries": time.get(t.pk, []),
        }
        for t in tickets
    ]


def _ledger(client: Client) -> list[dict[str, Any]]:
    return [
        {
            "id": c.pk,
            "kind": c.kind,
            "occurred_at": c.occurred_at,
            "description": c.description,
            "hours": c.hours,
            "rate": c.rate,
            "amount": c.amount,
        }
        for c in Charge.objects.filter(client=client).order_by("occurred_at", "pk")
    ]


def _invoices(client: Client) -> list[dict[str, Any]]:
    lines: dict[int, list[dict[str, Any]]] = {}
    for line in InvoiceLine.objects.filter(invoice__client=client).order_by("invoice", "position"):
        lines.setdefault(line.invoice_id, []).append(
            {
                "position": line.position,
                "charge": line.charge_id,
                "kind": line.kind,
                "description": line.description,
                "service_date": line.service_date,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
                "amount": line.amount,
            }
        )
    invoices = Invoice.objects.filter(client=client).select_related("credits")
    return [
        {
            "number": i.number,
            "kind": i.kind,
            "period": i.period,
            "issued_at": i.issued_at,
            "due_on": i.due_on,
            "issuer": i.issuer,
            "bill_to": i.bill_to,
            "bill_to_email": i.bill_to_email,
            "total": i.total,
            "credits": i.credits.number if i.credits is not None else None,
            "reason": i.reason,
            "lines": lines.get(i.pk, []),
        }
        for i in invoices.order_by("issued_at", "pk")
    ]


def _offers(client: Client) -> list[dict[str, Any]]:
    offers = ConversionOffer.objects.filter(client=client).select_related("plan", "terms")
    return [
        {
            "id": o.pk,
            "plan": o.plan.name,
            "status": o.status,
            "kind": o.kind,
            "source": o.source,
            "need": o.need,
            "sent_to": o.email,
            "contact": o.contact_id,
            "list_price": o.list_price,
            "discount_percent": o.discount_percent,
            "discount_first_term_only": o.discount_first_term_only,
            "monthly_price": o.monthly_price,
            "trailing_spend": o.trailing_spend,
            "contract_cost": o.contract_cost,
            "terms_version": o.terms.version if o.terms is not None else None,
            "created_at": o.created_at,
            "sent_at": o.sent_at,
            "opened_at": o.opened_at,
            "expires_at": o.expires_at,
            "responded_at": o.responded_at,
            "contract": o.contract_id,
            # The record of a binding acceptance: who signed, as what, from where, on which terms.
            "acceptance": (
                {
                    "signer_name": o.signer_name,
                    "signer_role": o.signer_role,
                    "accepted_at": o.responded_at,
                    "ip": o.accepted_ip,
                    "user_agent": o.accepted_user_agent,
                    "terms_version": o.terms.version if o.terms is not None else None,
                }
                if o.status == "accepted"
                else None
            ),
        }
        for o in offers.order_by("created_at", "pk")
    ]


def _history(client: Client) -> list[dict[str, Any]]:
    events = ClientEvent.objects.filter(client=client).select_related("by")
    return [
        {"kind": e.kind, "at": e.at, "by": _person(e.by), "summary": e.summary}
        for e in events.order_by("at", "pk")
    ]


def client_export_document(*, client: Client, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything held about `client`, as plain values (read only: eleven SELECTs)."""
    client = Client.objects.get(pk=client.pk)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": now or timezone.now(),
        "client": _client(client),
        "contacts": _contacts(client),
        "contracts": _contracts(client),
        "tickets": _tickets(client),
        "ledger": _ledger(client),
        "invoices": _invoices(client),
        "offers": _offers(client),
        "history": _history(client),
    }


@transaction.atomic
def client_export(*, client: Client, by: Actor = None) -> str:
    """Record the export in the client's history, then return the document as JSON text (the
    history it holds ends with this export)."""
    now = timezone.now()
    who = f" by {staff_name(by)}" if by is not None and by.is_authenticated else ""
    client_event_record(
        client=client,
        kind=ClientEventKind.CLIENT_EXPORTED,
        summary=f"Everything held about the client exported as JSON{who}",
        by=by,
        at=now,
    )
    document = client_export_document(client=client, now=now)
    return json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
