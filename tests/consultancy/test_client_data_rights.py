"""A client's data rights: the export holds everything about it, the erasure replaces its
personal data and keeps the accounts and the counts (README: "Client data rights")."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import (
    ClientEvent,
    ClientEventKind,
    Contact,
    EmailKind,
    EmailStatus,
    OutboundEmail,
)
from clients.services import ClientError
from consultancy.client_erasure import client_erase
from consultancy.client_export import EXPORT_FORMAT, client_export
from tests.consultancy.client_data import (
    FEBRUARY,
    client_with_a_past,
    erasable_rows,
    kept_figures,
)
from tests.factories import ClientFactory, TicketFactory
from tickets.models import TimeEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbor(time_machine: Any, manager: User, consultant: User, rate_card: Any) -> Any:
    return client_with_a_past(time_machine, manager=manager, consultant=consultant, label="Harbor")


# --- Export --------------------------------------------------------------------------------------
def test_the_export_holds_everything_about_the_client(harbor: Any, manager: User) -> None:
    client, ticket = harbor.client, harbor.tickets[0]

    document = json.loads(client_export(client=client, by=manager))

    assert document["format"] == EXPORT_FORMAT
    assert document["client"]["id"] == client.pk
    assert document["client"]["name"] == "Harbor Dental LLC"
    assert document["client"]["notes"] == "Harbor front desk opens at 8"
    assert document["client"]["status"] == "dropped"
    assert document["client"]["drop_reason"] == "Harbor asked us to stop"
    contacts = {c["name"]: c for c in document["contacts"]}
    assert contacts["Jane Harborroe"]["email"] == "jane@harbor.example"
    assert contacts["Jane Harborroe"]["phone"] == "555-0101"
    assert contacts["Sam Harborpoe"]["primary"] is False

    [exported_ticket] = document["tickets"]
    assert exported_ticket["id"] == ticket.pk
    assert exported_ticket["subject"] == "Harbor reception PC 0 will not boot"
    assert exported_ticket["description"] == "Jane at Harbor says the screen stays black"
    assert exported_ticket["status"] == "resolved"
    bodies = [(e["kind"], e["body"]) for e in exported_ticket["activity"]]
    assert ("reply", "Hi Jane, on my way to Harbor.") in bodies
    assert bodies[0] == ("opened", "Jane at Harbor says the screen stays black")
    [entry] = exported_ticket["time_entries"]
    assert entry["minutes"] == entry["billable_minutes"] == 90
    assert entry["note"] == "Replaced the PSU at Harbor"
    assert entry["work_date"] == "2025-02-20"

    # The ledger: 90 minutes of labour at the rate card's $125.00 an hour, and the toner.
    ledger = {c["kind"]: c for c in document["ledger"]}
    assert ledger["labour"]["amount"] == "187.50"
    assert ledger["labour"]["hours"] == "1.50"
    assert ledger["other"]["description"] == "Toner for Harbor"
    [invoice] = document["invoices"]
    assert invoice["number"] == "INV-2025-00001"
    assert invoice["period"] == FEBRUARY.first_day.isoformat()
    assert invoice["bill_to"] == "Harbor Dental LLC"
    assert invoice["total"] == "187.50"
    assert [line["amount"] for line in invoice["lines"]] == ["187.50"]

    [offer] = document["offers"]
    assert offer["status"] == "accepted"
    assert offer["sent_to"] == "jane@harbor.example"
    assert offer["acceptance"] == {
        "signer_name": "Jane Harborroe",
        "signer_role": "Practice manager",
        "accepted_at": offer["responded_at"],
        "ip": "203.0.113.7",
        "user_agent": "HarborBrowser/1.0",
        "terms_version": 1,
    }
    [contract] = document["contracts"]
    assert contract["status"] == "cancelled"
    assert contract["id"] == offer["contract"]
    assert contract["end_reason"] == "Harbor moved to another provider"

    kinds = [e["kind"] for e in document["history"]]
    assert {"offer_accepted", "contract_started", "contract_cancelled", "dropped"} <= set(kinds)
    # The document's history ends with this export, by the manager.
    assert document["history"][-1]["kind"] == "client_exported"
    assert document["history"][-1]["by"] == "Alice"


def test_the_export_holds_no_other_clients_data(harbor: Any, manager: User) -> None:
    other = ClientFactory(name="Dockside Bakery")
    TicketFactory(client=other, subject="Dockside oven display", description="Dockside says hi")

    text = client_export(client=harbor.client, by=manager)

    assert "Dockside" not in text
    json.loads(text)  # and it is valid JSON


def test_the_export_is_written_in_the_clients_history(harbor: Any, manager: User) -> None:
    client_export(client=harbor.client, by=manager)

    line = ClientEvent.objects.filter(client=harbor.client).latest("at", "pk")
    assert line.kind == ClientEventKind.CLIENT_EXPORTED
    assert line.by == manager


def _queries(run: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def test_the_export_reads_each_table_once_whatever_the_clients_size(
    time_machine: Any, manager: User, consultant: User, rate_card: Any
) -> None:
    small = client_with_a_past(time_machine, manager=manager, consultant=consultant, label="Ash")
    large = client_with_a_past(
        time_machine, manager=manager, consultant=consultant, label="Birch", tickets=4
    )

    counts = [
        _queries(lambda past=past: client_export(client=past.client, by=manager))
        for past in (small, large)
    ]

    # The history's INSERT (in a savepoint pair on the test's transaction), then the client
    # and one SELECT each of contacts, contracts, ticket events, time, tickets, charges,
    # invoice lines, invoices, offers and the history.
    assert counts == [14, 14]


# --- Erasure -------------------------------------------------------------------------------------
def test_the_erasure_replaces_every_personal_value_and_text(harbor: Any, manager: User) -> None:
    before = erasable_rows(harbor.client)
    assert all(value in before for value in harbor.personal)  # the test can see them

    client = client_erase(client=harbor.client, reason="Request by email of 3 March", by=manager)

    after = erasable_rows(client)
    assert [value for value in harbor.personal if value in after] == []
    assert client.name == f"Erased client {client.pk}"
    emails = set(Contact.objects.filter(client=client).values_list("email", flat=True))
    assert all(email.endswith("@erased.invalid") for email in emails)
    assert len(emails) == 2


def test_the_erasure_keeps_invoices_ledger_totals_and_the_counts(
    harbor: Any, manager: User
) -> None:
    before = kept_figures(harbor.client)
    assert before["ledger"]["total"] == Decimal("312.50")  # $187.50 labour + $125.00 toner
    assert before["time"]["minutes"] == 90
    assert before["offers_by_status"] == {"accepted": 1}

    client_erase(client=harbor.client, reason="Request by email of 3 March", by=manager)

    after = kept_figures(harbor.client)
    erased_line = after["history_kinds"].pop()
    assert erased_line[0] == ClientEventKind.CLIENT_ERASED
    assert after == before
    # The issued invoice keeps the name and address it was issued to.
    assert before["invoices"][0][2:4] == ("Harbor Dental LLC", "jane@harbor.example")


def test_the_erasure_is_written_in_the_clients_history(harbor: Any, manager: User) -> None:
    client_erase(client=harbor.client, reason="Request by email of 3 March", by=manager)

    line = ClientEvent.objects.filter(client=harbor.client).latest("at", "pk")
    assert line.kind == ClientEventKind.CLIENT_ERASED
    assert line.summary == "Personal data erased: Request by email of 3 March"
    assert line.by == manager
    # The earlier lines keep their kind and date and read as their kind.
    accepted = ClientEvent.objects.get(client=harbor.client, kind=ClientEventKind.OFFER_ACCEPTED)
    assert accepted.summary == "Offer accepted"


def test_erasing_twice_changes_nothing_the_second_time(harbor: Any, manager: User) -> None:
    client_erase(client=harbor.client, reason="Request", by=manager)
    rows = erasable_rows(harbor.client)

    with pytest.raises(ClientError, match="already erased"):
        client_erase(client=harbor.client, reason="Again", by=manager)

    assert erasable_rows(harbor.client) == rows
    assert ClientEvent.objects.filter(kind=ClientEventKind.CLIENT_ERASED).count() == 1


def test_a_client_still_served_is_not_erased(manager: User) -> None:
    client = ClientFactory(name="Quay Opticians")
    TicketFactory(client=client, subject="Quay till is down")

    with pytest.raises(ClientError) as refused:
        client_erase(client=client, reason="Request", by=manager)

    assert "Drop the client first" in str(refused.value)
    assert "open tickets" in str(refused.value)
    client.refresh_from_db()
    assert client.name == "Quay Opticians"
    assert not ClientEvent.objects.filter(client=client).exists()


def test_the_erasure_takes_a_fixed_number_of_queries_whatever_the_clients_size(
    time_machine: Any, manager: User, consultant: User, rate_card: Any
) -> None:
    small = client_with_a_past(time_machine, manager=manager, consultant=consultant, label="Ash")
    large = client_with_a_past(
        time_machine, manager=manager, consultant=consultant, label="Birch", tickets=4
    )
    assert TimeEntry.objects.filter(ticket__client=large.client).count() == 4

    counts = [
        _queries(lambda past=past: client_erase(client=past.client, reason="Request", by=manager))
        for past in (small, large)
    ]

    # A savepoint pair, the client's row lock, three checks (contract, open offer, open
    # ticket), one UPDATE each of the history, the admin's log, contacts, tickets, activity,
    # time, offers, contracts, the audit trail's offers and contracts, the outbox, charges and
    # the client, and the history's new line.
    assert counts == [20, 20]


def test_the_erasure_keeps_no_email_of_the_client_and_sends_none_still_waiting(
    harbor: Any, manager: User
) -> None:
    rows = OutboundEmail.objects.filter(client=harbor.client)
    assert rows.filter(kind=EmailKind.TICKET_ACKNOWLEDGEMENT).exists()  # the test sees them
    rows.filter(kind=EmailKind.TICKET_REPLY).update(status=EmailStatus.SENT, sent_at=timezone.now())
    staff = list(rows.filter(kind=EmailKind.OFFER_ACCEPTED_MANAGER).values_list("to", flat=True))

    client_erase(client=harbor.client, reason="Request", by=manager)

    assert set(rows.values_list("subject", "text", "html")) == {("[erased]", "[erased]", "")}
    for kind, to, status in rows.values_list("kind", "to", "status"):
        if kind == EmailKind.OFFER_ACCEPTED_MANAGER:
            assert to in staff
        else:
            assert to.endswith("@erased.invalid")
        # Sent ones stay sent (the record of what went); none waiting goes out any more.
        assert status in (EmailStatus.SENT, EmailStatus.UNDELIVERABLE)
    assert rows.filter(kind=EmailKind.TICKET_REPLY, status=EmailStatus.SENT).exists()
