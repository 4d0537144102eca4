"""Fault: the broker (a Redis of this test's own) stopped while consultants open tickets and
reply, a client accepts an offer and a manager sends one, all through real requests, with a
live worker running. Every request answers as usual and at once; once Redis is back, an
operator's `requeue_outbox` queues what waited, and every email reaches the mail server once.
"""

from __future__ import annotations

import time
from collections import Counter
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from clients.models import EmailKind, EmailStatus, OutboundEmail
from offers.models import ConversionOffer, OfferStatus
from offers.services import campaign_run
from tests.browser.emails import addressed_to, links
from tests.conftest import SIGNER
from tests.factories import ClientFactory, ContactFactory
from tests.integration.faults import (
    FaultBroker,
    assert_each_email_once,
    create_eligible_clients,
    offer_statuses,
    outbox_statuses,
)
from tests.integration.servers import LiveWorkers, wait_for
from tests.smtp import Inbox
from tickets.models import Ticket

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

# A request that meets a stopped broker answers within this: the publish after commit fails
# in well under a second on a refused connection (clients/broker.py), and the page is as usual.
PROMPT = 3.0
ANA, BEN = "ana@harbor.example", "ben@lakeside.example"


def timed(send: Any, *args: Any, **kwargs: Any) -> Any:
    started = time.monotonic()
    response = send(*args, **kwargs)
    took = time.monotonic() - started
    assert took < PROMPT, f"{args[0]} answered in {took:.1f} s with the broker down"
    return response


def open_ticket(http: HttpClient, client_id: int, subject: str, *, paid: bool) -> Ticket:
    """The new-ticket form as a consultant sends it; returns the ticket its page shows."""
    form = http.get(reverse("tickets:new")).content.decode()
    submission = form.split('name="submission" value="', 1)[1][:36]
    post = {"client": client_id, "subject": subject, "priority": "high", "submission": submission}
    if paid:
        post["paid_priority"] = "on"
    response = timed(http.post, reverse("tickets:new"), post)
    ticket = Ticket.objects.get(subject=subject)
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("tickets:detail", args=[ticket.pk]),
    )
    page = timed(http.get, response["Location"])
    assert page.status_code == 200
    assert f"Ticket #{ticket.pk} opened." in page.content.decode()
    return ticket


def reply(http: HttpClient, ticket: Ticket, body: str, to: str) -> None:
    url = reverse("tickets:reply", args=[ticket.pk])
    response = timed(http.post, url, {"reply-body": body})
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("tickets:detail", args=[ticket.pk]),
    )
    page = timed(http.get, response["Location"])
    assert f"Reply sent to {to}." in page.content.decode()


def accept_from_the_email(http: HttpClient, inbox: Inbox, address: str) -> ConversionOffer:
    """The client opens the offer from the email it received and accepts it."""
    (email,) = addressed_to(inbox, address)
    offer_link = urlsplit(links(email)[0]).path
    assert timed(http.get, offer_link).status_code == 200
    response = timed(http.post, f"{offer_link}accept/", {**SIGNER, "agree": "on"})
    assert response.status_code == 200
    assert "offers/offer_accepted.html" in [t.name for t in response.templates]
    return ConversionOffer.objects.get(email=address)


def test_with_the_broker_stopped_every_request_answers_and_every_email_goes_once_it_is_back(
    private_broker: FaultBroker,
    fault_workers: LiveWorkers,
    inbox: Inbox,
    consultant_client: HttpClient,
    manager_client: HttpClient,
    manager: User,
) -> None:
    assert private_broker.redis is not None
    # Before the outage: the campaign's offers reach three clients through the live worker.
    offered = create_eligible_clients(3)
    worker = fault_workers.start(private_broker.env, pool="solo", concurrency=1)
    assert campaign_run().offers_created == 3
    wait_for(
        lambda: offer_statuses() == {OfferStatus.SENT: 3} and len(inbox) == 3,
        timeout=60,
        what="the three offers sent before the outage",
        workers=(worker,),
    )
    harbor = ContactFactory(client=ClientFactory(name="Harbor Dental"), email=ANA).client
    lakeside = ContactFactory(client=ClientFactory(name="Lakeside Vets"), email=BEN).client
    (late_id,) = create_eligible_clients(1, plan=False).values()

    private_broker.redis.stop()

    assert timed(consultant_client.get, reverse("tickets:queue")).status_code == 200
    urgent = open_ticket(consultant_client, harbor.pk, "Server will not boot", paid=True)
    printer = open_ticket(consultant_client, lakeside.pk, "Printer jams", paid=False)
    reply(consultant_client, urgent, "On my way with a spare disk.", ANA)
    reply(consultant_client, printer, "Try the rear tray, please.", BEN)
    first, second, _unanswered = offered
    accepted = [accept_from_the_email(HttpClient(), inbox, a) for a in (first, second)]
    response = timed(
        manager_client.post,
        reverse("admin:clients_client_changelist"),
        {"action": "send_offer_now", "_selected_action": [late_id]},
    )
    assert response.status_code == 302

    # Every change is made; every email it caused waits in the outbox, none was sent.
    assert all(offer.contract_id is not None for offer in accepted)
    assert Counter(OutboundEmail.objects.values_list("kind", "status")) == {
        (EmailKind.TICKET_ACKNOWLEDGEMENT, EmailStatus.PENDING): 2,
        (EmailKind.TICKET_REPLY, EmailStatus.PENDING): 2,
        (EmailKind.OFFER_ACCEPTED, EmailStatus.PENDING): 2,
        (EmailKind.OFFER_ACCEPTED_MANAGER, EmailStatus.PENDING): 2,
    }
    assert offer_statuses() == {
        OfferStatus.ACCEPTED: 2,
        OfferStatus.SENT: 1,
        OfferStatus.PENDING: 1,
    }
    assert len(inbox) == 3

    private_broker.redis.start()
    out = StringIO()
    call_command("requeue_outbox", stdout=out)

    assert "Queued 8 email(s) from the outbox." in out.getvalue()
    assert "Queued 1 offer(s) not sent yet." in out.getvalue()
    wait_for(
        lambda: outbox_statuses() == {EmailStatus.SENT: 8} and len(inbox) == 12,
        timeout=60,
        what="the eight emails of the outage and the offer made during it",
        workers=(worker,),
    )
    assert offer_statuses() == {OfferStatus.ACCEPTED: 2, OfferStatus.SENT: 2}
    assert_each_email_once(
        inbox, emails=OutboundEmail.objects.all(), offers=ConversionOffer.objects.all()
    )
    # By hand: Ana and Ben an acknowledgement and a reply each; the two clients who accepted
    # their offer and a confirmation; the manager a notice of each acceptance; two offers alone.
    received = Counter(r for d in inbox.deliveries for r in d.recipients)
    late_address = ConversionOffer.objects.get(client_id=late_id).email
    assert received == {
        ANA: 2,
        BEN: 2,
        first: 2,
        second: 2,
        manager.email: 2,
        _unanswered: 1,
        late_address: 1,
    }
