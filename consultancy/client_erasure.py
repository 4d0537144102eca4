"""Erasing a client's personal data, keeping the accounts and the counts (its data rights).

What is replaced and what is kept, and why, is the README's "Client data rights". In short:
the people (contacts, signers, addresses, browsers) and the words (ticket texts, activity,
notes, history summaries) go; the money (ledger amounts, issued invoices as issued) and the
facts the reports count (tickets, time, offers by status, contracts) stay.

The erasure reads every app, so it lives here, in the top layer. It is one transaction of a
fixed number of statements, whatever the client's size: a lock, three checks, one UPDATE per
table and the history's line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import LogEntry
from django.db import transaction
from django.db.models import Case, CharField, F, Q, TextField, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from clients.models import (
    Charge,
    ChargeKind,
    Client,
    ClientEvent,
    ClientEventKind,
    Contact,
    EmailKind,
    EmailStatus,
    OutboundEmail,
)
from clients.services import ClientError, client_event_record
from contracts.models import ServiceContract
from offers.models import ConversionOffer
from tickets.models import Ticket, TicketEvent, TimeEntry

if TYPE_CHECKING:
    from django.db.models import Model

    from clients.services import Actor

ERASED = "[erased]"
# An address that can never receive mail (RFC 2606 reserves .invalid), unique per row.
ERASED_DOMAIN = "@erased.invalid"
REASON_LENGTH = 300
# Outbox emails to the practice's own staff about the client (their addresses are kept).
STAFF_EMAILS = (
    EmailKind.OFFER_ACCEPTED_MANAGER,
    EmailKind.TICKET_AT_RISK,
    EmailKind.RENEWALS_WEEKLY,
)


def erased_client_name(pk: int) -> str:
    return f"Erased client {pk}"


def erasure_refusals(client: Client) -> list[str]:
    """Why `client` cannot be erased yet (empty: it can). Erasing a client the practice still
    serves would leave offers, replies and renewals going to an address that no longer exists."""
    if client.is_erased:
        local = timezone.localtime(client.erased_at)
        return [
            f"{client} was already erased on {local:%Y-%m-%d %H:%M}; there is nothing left to erase."
        ]
    refusals = []
    if not client.is_dropped:
        refusals.append(
            "Drop the client first: only a client the practice no longer serves is erased."
        )
    if ServiceContract.objects.held_by(client):
        refusals.append("It holds an active contract: cancel it first.")
    if ConversionOffer.objects.for_client(client.pk).open().exists():
        refusals.append("It has an offer still open: withdraw it first.")
    if Ticket.objects.for_client(client).open().exists():
        refusals.append("It has open tickets: resolve or close them first.")
    return refusals


def _pk_text(model: type[Model], **filters: Any) -> Any:
    """The primary keys of `model`'s rows matching `filters`, as text (LogEntry.object_id)."""
    rows = model._default_manager.filter(**filters)
    return rows.annotate(text=Cast("pk", CharField())).values("text")


def _logged(model: type[Model], object_ids: Any) -> Q:
    opts = model._meta
    return Q(
        content_type__app_label=opts.app_label,
        content_type__model=opts.model_name,
        object_id__in=object_ids,
    )


def _if_written(field: str) -> Case:
    """ERASED where the field holds something, empty where it was empty."""
    return Case(When(**{field: ""}, then=Value("")), default=Value(ERASED))


@transaction.atomic
def client_erase(*, client: Client, reason: str, by: Actor = None) -> Client:
    """Replace `client`'s personal data and texts for good; refused (ClientError, nothing
    changed) while the practice still serves it or once it is erased."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if refusals := erasure_refusals(locked):
        raise ClientError(" ".join(refusals))
    reason = reason.strip()[:REASON_LENGTH]
    if not reason:
        raise ClientError("Say why the client's data is erased (a request, its date).")
    now = timezone.now()
    pk_text = Cast("pk", CharField())

    # The words first: the history's lines keep what happened, when and who did it, and lose
    # their summaries (they name signers, addresses, reasons): each becomes its kind's label.
    ClientEvent.objects.filter(client=locked).update(
        summary=Case(
            *(When(kind=kind, then=Value(str(kind.label))) for kind in ClientEventKind),
            default=Value(ERASED),
        )
    )
    # The admin's own log names the rows as they were (and inlines' "added" lines the contacts).
    LogEntry.objects.filter(
        _logged(Client, [str(locked.pk)])
        | _logged(Contact, _pk_text(Contact, client=locked))
        | _logged(Ticket, _pk_text(Ticket, client=locked))
        | _logged(ConversionOffer, _pk_text(ConversionOffer, client=locked))
        | _logged(ServiceContract, _pk_text(ServiceContract, client=locked))
    ).update(object_repr=ERASED, change_message=ERASED)

    Contact.objects.filter(client=locked).update(
        name=Concat(Value("Erased contact "), pk_text),
        email=Concat(Value("erased-contact-"), pk_text, Value(ERASED_DOMAIN)),
        phone="",
    )
    Ticket.objects.filter(client=locked).update(subject=ERASED, description="")
    TicketEvent.objects.filter(ticket__client=locked).exclude(body="").update(body=ERASED)
    TimeEntry.objects.filter(ticket__client=locked).exclude(note="").update(note="")
    ConversionOffer.objects.filter(client=locked).update(
        email=Concat(Value("erased-offer-"), pk_text, Value(ERASED_DOMAIN)),
        signer_name=_if_written("signer_name"),
        signer_role=_if_written("signer_role"),
        accepted_ip=None,
        accepted_user_agent=_if_written("accepted_user_agent"),
    )
    ServiceContract.objects.filter(client=locked).exclude(end_reason="").update(end_reason=ERASED)
    # The audit trail keeps copies of those rows as they were (clients.audit): the same words
    # go from the copies, and from the reasons services gave ("Accepted by <signer>, <role>").
    ConversionOffer.history.filter(client_id=locked.pk).update(
        email=Concat(Value("erased-offer-"), Cast("id", CharField()), Value(ERASED_DOMAIN)),
        signer_name=_if_written("signer_name"),
        signer_role=_if_written("signer_role"),
        accepted_ip=None,
        accepted_user_agent=_if_written("accepted_user_agent"),
        history_change_reason=None,
    )
    ServiceContract.history.filter(client_id=locked.pk).update(
        end_reason=_if_written("end_reason"), history_change_reason=None
    )
    # The outbox keeps each email as it was sent: its words go, and the client's addresses
    # (staff addresses stay: who was told). One still waiting is never sent to an erased name.
    OutboundEmail.objects.filter(client=locked).update(
        key=Concat(Value("erased-"), pk_text),
        to=Case(
            When(kind__in=STAFF_EMAILS, then=F("to")),
            default=Concat(Value("erased-email-"), pk_text, Value(ERASED_DOMAIN)),
            output_field=TextField(),
        ),
        subject=ERASED,
        text=ERASED,
        html="",
        headers={},
        status=Case(
            When(status=EmailStatus.PENDING, then=Value(EmailStatus.UNDELIVERABLE)),
            default=F("status"),
        ),
        last_error=Case(
            When(status=EmailStatus.PENDING, then=Value("Erased with the client's data.")),
            default=Value(""),
        ),
    )
    # Charges not on an issued invoice yet lose their words (a labour charge names its ticket);
    # those on one stay as the invoice shows them (the README says why).
    Charge.objects.filter(client=locked, invoice_line__isnull=True).update(
        description=Case(
            *(When(kind=kind, then=Value(f"{kind.label} (details erased)")) for kind in ChargeKind),
            default=Value(ERASED),
        )
    )

    locked.name = erased_client_name(locked.pk)
    locked.notes = ""
    locked.drop_reason = ERASED if locked.drop_reason else ""
    locked.erased_at = now
    locked.save(update_fields=["name", "notes", "drop_reason", "erased_at"])
    client_event_record(
        client=locked,
        kind=ClientEventKind.CLIENT_ERASED,
        summary=f"Personal data erased: {reason}",
        by=by,
        at=now,
    )
    return locked
