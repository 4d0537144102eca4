"""Emails about tickets: acknowledgement, replies, deadline-at-risk alerts."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse

from clients.mail import render_email
from clients.models import Contact
from tickets.models import Ticket, TicketEvent


def _reference(ticket: Ticket) -> dict[str, str]:
    return {"X-Ticket-Ref": f"ticket-{ticket.pk}"}


def acknowledgement(ticket: Ticket, contact: Contact) -> EmailMultiAlternatives:
    return render_email(
        "ticket_acknowledgement",
        {"ticket": ticket, "contact": contact},
        to=[contact.email],
        headers=_reference(ticket),
    )


def reply(ticket: Ticket, event: TicketEvent, contact: Contact) -> EmailMultiAlternatives:
    return render_email(
        "ticket_reply",
        {"ticket": ticket, "event": event, "contact": contact},
        to=[contact.email],
        headers=_reference(ticket),
    )


def risk_headline(overdue: bool) -> str:
    """How a deadline alert starts, in the email's subject and on the ticket's activity."""
    return "Deadline missed" if overdue else "Deadline at risk"


def deadline_at_risk(
    ticket: Ticket, recipients: list[str], *, overdue: bool
) -> EmailMultiAlternatives:
    """The alert for a ticket close to its deadline, or already past it (a scan that ran late,
    or a deadline shorter than the scan interval): the wording must not say "close" then."""
    return render_email(
        "ticket_at_risk",
        {
            "ticket": ticket,
            "overdue": overdue,
            "headline": risk_headline(overdue),
            "url": settings.SITE_URL + reverse("tickets:detail", args=[ticket.pk]),
        },
        to=recipients,
        headers=_reference(ticket),
    )
