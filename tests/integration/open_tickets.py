"""Open tickets in the database DATABASE_URL names, as a consultant's request does (run by a
fault test: `python -m tests.integration.open_tickets ADDRESS:SUBJECT ...`; a client of its
own for each new address)."""

from __future__ import annotations

import sys

import django


def open_tickets(tickets: list[str]) -> None:
    django.setup()
    from clients.models import Client, Contact
    from tickets.services import ticket_open

    for ticket in tickets:
        address, subject = ticket.split(":", 1)
        contact = Contact.objects.filter(email=address).select_related("client").first()
        if contact is None:
            client = Client.objects.create(name=f"Client of {address}")
            contact = Contact.objects.create(
                client=client, name=address, email=address, is_primary=True
            )
        ticket_open(client=contact.client, contact=contact, subject=subject)


if __name__ == "__main__":
    open_tickets(sys.argv[1:])
