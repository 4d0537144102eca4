"""Emails about tickets: acknowledgement, replies, deadline-at-risk alerts."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from contracts.emails import one_line
from tickets.models import Ticket, TicketEvent


def _message(
    *, subject: str, template: str, context: dict[str, object], to: list[str], reply_ref: str
) -> EmailMultiAlternatives:
    context = {**context, "practice_name": settings.PRACTICE_NAME, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=one_line(subject),
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"X-Ticket-Ref": reply_ref},
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    return message


def acknowledgement(ticket: Ticket) -> EmailMultiAlternatives | None:
    if ticket.contact is None:
        return None
    return _message(
        subject=f"[#{ticket.pk}] We received your request: {ticket.subject}",
        template="ticket_acknowledgement",
        context={"ticket": ticket, "contact": ticket.contact},
        to=[ticket.contact.email],
        reply_ref=f"ticket-{ticket.pk}",
    )


def reply(event: TicketEvent) -> EmailMultiAlternatives | None:
    ticket = event.ticket
    if ticket.contact is None:
        return None
    return _message(
        subject=f"Re: [#{ticket.pk}] {ticket.subject}",
        template="ticket_reply",
        context={"ticket": ticket, "event": event, "contact": ticket.contact},
        to=[ticket.contact.email],
        reply_ref=f"ticket-{ticket.pk}",
    )


def risk_headline(overdue: bool) -> str:
    """How a deadline alert starts, in the email's subject and on the ticket's activity."""
    return "Deadline missed" if overdue else "Deadline at risk"


def deadline_at_risk(
    ticket: Ticket, recipients: list[str], *, overdue: bool
) -> EmailMultiAlternatives:
    """The alert for a ticket close to its deadline, or already past it (a scan that ran late,
    or a deadline shorter than the scan interval): the wording must not say "close" then."""
    return _message(
        subject=f"{risk_headline(overdue)}: [#{ticket.pk}] {ticket.client.name}: {ticket.subject}",
        template="ticket_at_risk",
        context={
            "ticket": ticket,
            "overdue": overdue,
            "url": settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk]),
        },
        to=recipients,
        reply_ref=f"ticket-{ticket.pk}",
    )
