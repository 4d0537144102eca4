"""Opening a ticket over HTTP: the new-ticket form, and the client search and contact list that
the form's client picker asks for."""

from __future__ import annotations

import datetime as dt
import re
from html import escape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from clients.models import Charge, ClientStatus
from contracts.models import Priority
from tests.conftest import NOW
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    PlanFactory,
)
from tests.tickets.workspace import LONG_MESSAGE, TOO_LONG, UNKNOWN
from tickets.models import QueueTier, Ticket

pytestmark = pytest.mark.django_db


def test_the_new_ticket_form_says_what_priority_costs(consultant_client: Any) -> None:
    page = consultant_client.get(reverse("tickets:new")).content.decode()

    assert "Client pays $75.00 for priority service" in page


# --- Opening a ticket -------------------------------------------------------------------------
def test_new_ticket_form_opens_the_ticket_and_shows_it(
    now: dt.datetime, consultant: User, consultant_client: Any
) -> None:
    contact = ContactFactory()
    other = ContactFactory(client=contact.client, is_primary=False)

    response = consultant_client.post(
        reverse("tickets:new"),
        {
            "client": contact.client_id,
            "contact": other.pk,
            "subject": "  Phones   dead ",
            "description": "All of them.",
            "priority": "high",
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert (ticket.client, ticket.contact, ticket.subject, ticket.priority) == (
        contact.client,
        other,
        "Phones dead",
        "high",
    )
    assert ticket.events.get().actor == consultant


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"subject": "Help"}, "Pick a client from the list."),
        ({"client": "abc", "subject": "Help"}, "Pick an active client from the list."),
        ({"client": str(UNKNOWN), "subject": "Help"}, "Pick an active client from the list."),
        ({"client": "{client}", "subject": "   "}, "This field is required."),
        ({"client": "{client}", "subject": "x" * 201}, "at most 200 characters"),
        ({"client": "{client}", "subject": "Help", "description": TOO_LONG}, LONG_MESSAGE),
        ({"client": "{client}", "subject": "Help", "priority": "asap"}, "Select a valid choice."),
    ],
)
def test_new_ticket_form_refuses_bad_input(
    now: dt.datetime, consultant_client: Any, data: dict[str, str], message: str
) -> None:
    client = ClientFactory()
    data = {k: v.replace("{client}", str(client.pk)) for k, v in data.items()}

    response = consultant_client.post(reverse("tickets:new"), data)

    assert response.status_code == 422
    assert escape(message) in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_refuses_a_dropped_client(now: dt.datetime, consultant_client: Any) -> None:
    dropped = ClientFactory(status=ClientStatus.DROPPED, dropped_at=NOW)

    response = consultant_client.post(
        reverse("tickets:new"), {"client": dropped.pk, "subject": "Help", "priority": "normal"}
    )

    assert response.status_code == 422
    assert "has been dropped; only a manager can open a ticket for it." in response.content.decode()
    assert "Open it anyway" not in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_refuses_a_contact_of_another_client(
    now: dt.datetime, consultant_client: Any
) -> None:
    client = ClientFactory()
    stranger = ContactFactory()

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": client.pk, "contact": stranger.pk, "subject": "Help", "priority": "normal"},
    )

    assert response.status_code == 422
    assert response.context["form"].has_error("contact")
    assert "Select a valid choice." in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_form_shows_why_a_contract_client_cannot_pay_for_priority(
    now: dt.datetime, consultant_client: Any
) -> None:
    contract = ContractFactory()

    response = consultant_client.post(
        reverse("tickets:new"),
        {
            "client": contract.client_id,
            "subject": "Help",
            "priority": "normal",
            "paid_priority": "on",
        },
    )

    assert response.status_code == 422
    assert "is on a contract and is served first already" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Charge.objects.exists()


def test_new_ticket_form_opened_for_a_client_shows_that_client(
    now: dt.datetime, consultant_client: Any
) -> None:
    contract = ContractFactory(client=ClientFactory(name="Harbor Vets"))

    response = consultant_client.get(reverse("tickets:new"), {"client": contract.client_id})

    html = response.content.decode()
    assert 'id="client-picked-name">Harbor Vets</a>' in html
    # The name opens the client's page (in a new tab: the form stays as it was).
    assert f'href="/clients/{contract.client_id}/" target="_blank"' in html
    assert response.context["chosen"].on_contract


def test_client_lookup_finds_matching_active_clients_only(
    now: dt.datetime, consultant_client: Any
) -> None:
    on_contract = ContractFactory(client=ClientFactory(name="Harbor Vets")).client
    transactional = ClientFactory(name="Harbor Bakery")
    ClientFactory(name="Harbor Closed", status=ClientStatus.DROPPED, dropped_at=NOW)
    ClientFactory(name="Inland Motors")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": " harbor "})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert f'data-client-id="{transactional.pk}"' in html
    assert f'data-client-id="{on_contract.pk}"' in html
    assert "Harbor Closed" not in html
    assert "Inland Motors" not in html
    assert html.index("Harbor Bakery") < html.index("Harbor Vets")  # alphabetical
    assert (
        f'data-client-id="{on_contract.pk}" data-client-name="Harbor Vets" data-on-contract="1" '
        f'data-client-url="/clients/{on_contract.pk}/"' in html
    )


def test_client_lookup_matches_a_contact_email(now: dt.datetime, consultant_client: Any) -> None:
    contact = ContactFactory(email="pat@greenleaf.example")
    ContactFactory(client=contact.client, is_primary=False, email="sam@greenleaf.example")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "greenleaf"})

    html = response.content.decode()
    assert html.count(f'data-client-id="{contact.client_id}"') == 1  # once, not per contact


@pytest.mark.parametrize("term", ["", "h", "  h  "])
def test_client_lookup_waits_for_two_letters(
    now: dt.datetime, consultant_client: Any, term: str
) -> None:
    ClientFactory(name="Harbor Vets")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": term})

    assert response.status_code == 200
    assert "data-client-id" not in response.content.decode()


def test_client_lookup_with_a_nul_byte_is_answered(
    now: dt.datetime, consultant_client: Any
) -> None:
    # PostgreSQL refuses NUL in a string parameter; the lookup must not pass one through.
    ClientFactory(name="Harbor Vets")

    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "har\x00bor"})

    assert response.status_code == 200
    # The NUL is dropped, so the rest of what was typed still finds the client.
    assert 'data-client-name="Harbor Vets"' in response.content.decode()


def test_client_lookup_says_when_nothing_matches(now: dt.datetime, consultant_client: Any) -> None:
    response = consultant_client.get(reverse("tickets:client_lookup"), {"q": "zebra"})

    assert "No active client matches “zebra”." in response.content.decode()


def test_client_contacts_lists_that_clients_contacts_only(
    now: dt.datetime, consultant_client: Any
) -> None:
    mine = ContactFactory(name="Pat Lee")
    ContactFactory(name="Someone Else")

    response = consultant_client.get(reverse("tickets:client_contacts"), {"client": mine.client_id})

    html = response.content.decode()
    assert "<html" not in html
    assert f'<option value="{mine.pk}">Pat Lee' in html
    assert "Someone Else" not in html


@pytest.mark.parametrize("raw", ["", "abc", "99999999999999999999", "²", "-1", "0"])
def test_client_contacts_with_a_bad_client_lists_no_one(
    now: dt.datetime, consultant_client: Any, raw: str
) -> None:
    ContactFactory()

    response = consultant_client.get(reverse("tickets:client_contacts"), {"client": raw})

    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1  # "Primary contact" only


@pytest.mark.parametrize("raw", ["abc", str(UNKNOWN), "99999999999999999999", "²"])
def test_new_ticket_form_for_an_unknown_client_starts_blank(
    now: dt.datetime, consultant_client: Any, raw: str
) -> None:
    response = consultant_client.get(reverse("tickets:new"), {"client": raw})

    assert response.status_code == 200
    assert response.context["chosen"] is None


def test_a_priority_the_plan_sets_no_target_for_gets_the_plans_loosest_target(
    now: dt.datetime, consultant_client: Any
) -> None:
    # The plan admin requires at least one target, not one per priority; a priority without its
    # own target takes the plan's loosest (ContractPlan.deadlines), so the client is still served
    # first and under a guarantee: the ticket opens.
    plan = PlanFactory(targets={Priority.NORMAL: (240, 1440)})
    contract = ContractFactory(plan=plan)

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": contract.client_id, "subject": "Mouse sticky", "priority": Priority.LOW},
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert (ticket.priority, ticket.queue_tier) == (Priority.LOW, QueueTier.CONTRACT)
    normal = plan.deadlines(Priority.NORMAL, ticket.opened_at)
    assert (ticket.response_due_at, ticket.resolution_due_at) == (
        normal.response_due_at,
        normal.resolution_due_at,
    )


# --- The page itself ---------------------------------------------------------------------------
@pytest.mark.parametrize("persona", ["consultant_client", "manager_client"])
def test_new_ticket_page_is_the_form_rendered_with_its_layout(
    now: dt.datetime, persona: str, request: pytest.FixtureRequest
) -> None:
    http = request.getfixturevalue(persona)

    html = http.get(reverse("tickets:new")).content.decode()

    # The form's own fields, each once, in one form that posts to the view.
    assert html.count("<form ") == 2  # this one and "sign out"
    assert f'action="{reverse("tickets:new")}"' in html
    for name in ("client", "contact", "subject", "description", "priority", "paid_priority"):
        assert html.count(f'name="{name}"') == 1, name
    assert 'type="hidden" name="client"' in html
    assert f'hx-get="{reverse("tickets:client_contacts")}"' in html
    assert 'id="client-search"' in html
    assert "/static/js/ticket_new.js" in html


def test_anonymous_visitor_gets_no_form(now: dt.datetime, anon_client: Any) -> None:
    response = anon_client.get(reverse("tickets:new"))

    assert response.status_code == 302
    assert 'name="subject"' not in response.content.decode()


@pytest.mark.parametrize(
    ("on_contract", "badge", "surcharge_hidden"),
    [
        (True, '<span class="badge badge-client-contract">Contract</span>', True),
        (False, '<span class="badge badge-client-transactional">Transactional</span>', False),
    ],
)
def test_the_chosen_client_shows_its_badge_and_the_surcharge_only_if_transactional(
    now: dt.datetime, consultant_client: Any, on_contract: bool, badge: str, surcharge_hidden: bool
) -> None:
    client = ContractFactory().client if on_contract else ClientFactory()

    html = consultant_client.get(reverse("tickets:new"), {"client": client.pk}).content.decode()

    assert f'<span id="client-picked-tier">{badge}</span>' in html
    hidden = re.search(r'id="paid-priority-box"\s+class="d-none"', html) is not None
    assert hidden == surcharge_hidden


def test_client_lookup_shows_each_client_with_its_badge(
    now: dt.datetime, consultant_client: Any
) -> None:
    ContractFactory(client=ClientFactory(name="Harbor Vets"))
    ClientFactory(name="Harbor Bakery")

    html = consultant_client.get(reverse("tickets:client_lookup"), {"q": "harbor"}).content.decode()

    assert '<span class="badge badge-client-contract">Contract</span>' in html
    assert '<span class="badge badge-client-transactional">Transactional</span>' in html


def test_a_contact_list_reloaded_for_a_client_is_the_forms_own_options(
    now: dt.datetime, consultant_client: Any
) -> None:
    contact = ContactFactory(name="Pat Lee", email="pat@harbor.example")

    html = consultant_client.get(
        reverse("tickets:client_contacts"), {"client": contact.client_id}
    ).content.decode()

    assert html == (
        '<option value="" selected>Primary contact</option>'
        f'<option value="{contact.pk}">Pat Lee &lt;pat@harbor.example&gt;</option>'
    )


def test_a_refused_ticket_keeps_the_chosen_client_and_contact(
    now: dt.datetime, consultant_client: Any
) -> None:
    contact = ContactFactory(name="Pat Lee")

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": contact.client_id, "contact": contact.pk, "subject": "", "priority": "high"},
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert f'id="client-picked-name">{contact.client.name}</a>' in html
    assert f'<option value="{contact.pk}" selected>Pat Lee' in html
    assert '<option value="high" selected>High</option>' in html


# --- The same form sent twice -----------------------------------------------------------------
def _submission(page: str) -> str:
    found = re.search(r'name="submission" value="([0-9a-f-]{36})"', page)
    assert found, "the form carries no id of its own"
    return found.group(1)


def test_a_paid_priority_form_sent_twice_opens_one_ticket_and_charges_once(
    now: dt.datetime, consultant_client: Any
) -> None:
    contact = ContactFactory()
    form = consultant_client.get(reverse("tickets:new")).content.decode()
    post = {
        "client": contact.client_id,
        "subject": "Server down",
        "priority": "high",
        "paid_priority": "on",
        "submission": _submission(form),
    }

    first = consultant_client.post(reverse("tickets:new"), post)
    again = consultant_client.post(reverse("tickets:new"), post, follow=True)

    ticket = Ticket.objects.get()
    assert first["Location"] == reverse("tickets:detail", args=[ticket.pk])
    assert again.redirect_chain == [(reverse("tickets:detail", args=[ticket.pk]), 302)]
    assert f"That form opened ticket #{ticket.pk} already" in again.content.decode()
    assert Charge.objects.count() == 1  # one surcharge, $75.00
    assert Charge.objects.get().amount == 75


def test_a_form_shown_again_with_an_error_keeps_its_id_and_a_fresh_form_gets_a_new_one(
    now: dt.datetime, consultant_client: Any
) -> None:
    contact = ContactFactory()
    first_form = _submission(consultant_client.get(reverse("tickets:new")).content.decode())
    refused = consultant_client.post(
        reverse("tickets:new"),
        {"client": contact.client_id, "subject": "  ", "submission": first_form},
    )

    assert refused.status_code == 422
    assert _submission(refused.content.decode()) == first_form
    assert _submission(consultant_client.get(reverse("tickets:new")).content.decode()) != first_form


def test_a_damaged_form_id_is_refused_and_opens_nothing(
    now: dt.datetime, consultant_client: Any
) -> None:
    contact = ContactFactory()

    response = consultant_client.post(
        reverse("tickets:new"),
        {"client": contact.client_id, "subject": "Printer", "submission": "not-a-uuid\x00"},
    )

    assert response.status_code == 422
    assert "This form was damaged; open a new one." in response.content.decode()
    assert not Ticket.objects.exists()
