"""The client list, /clients/: search as you type, filters, keyset pages, each row's figures."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import ChargeKind, Client
from clients.services import client_drop
from tests.conftest import DAY, NOW
from tests.factories import (
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    TicketFactory,
)
from tests.tickets.client_helpers import ten_hour_plan
from tickets.client_list import PAGE_SIZE, domain_of
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db
LIST = reverse("tickets:clients")


def names(http, **params) -> list[str]:
    """The client names the list shows for `params`, in order."""
    response = http.get(LIST, params)
    assert response.status_code == 200
    body = response.content.decode().split('id="client-rows"')[1].split("</tbody>")[0]
    return re.findall(r'<a class="fw-semibold" href="/clients/\d+/">([^<]*)</a>', body)


@pytest.fixture
def practice(manager, now):
    """Four clients: one on contract, two transactional, one dropped."""
    harbor = ContractFactory(
        client=ClientFactory(name="Harbor Dental"), plan=ten_hour_plan(name="Business Plus")
    ).client
    ContactFactory(client=harbor, name="Dana Whitfield", email="dana@harbordental.example")
    lakeside = ContactFactory(
        client=ClientFactory(name="Lakeside Vets"), name="Sam Ortiz", email="sam@lakeside.example"
    ).client
    bakery = ClientFactory(name="corner bakery")
    gone = client_drop(client=ClientFactory(name="Gone Ltd"), reason="Left", by=manager)
    return {"harbor": harbor, "lakeside": lakeside, "bakery": bakery, "gone": gone}


def test_a_consultant_and_a_manager_may_list_clients_and_a_visitor_signs_in(
    consultant_client, manager_client, anon_client, practice
):
    assert names(consultant_client) == [
        "corner bakery",
        "Gone Ltd",
        "Harbor Dental",
        "Lakeside Vets",
    ]
    assert manager_client.get(LIST).status_code == 200
    response = anon_client.get(LIST)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={LIST}"


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("harbor", ["Harbor Dental"]),  # the name, any case
        ("BAKERY", ["corner bakery"]),
        ("dana whit", ["Harbor Dental"]),  # a contact's name
        ("sam@lakeside", ["Lakeside Vets"]),  # a contact's email
        ("lakeside.example", ["Lakeside Vets"]),  # the email's domain
        ("https://www.harbordental.example/about", ["Harbor Dental"]),  # the website
        ("@harbordental.example", ["Harbor Dental"]),
        ("nothing like it", []),
    ],
)
def test_search_finds_a_name_a_contact_an_email_or_a_domain(consultant_client, practice, q, found):
    assert names(consultant_client, q=q) == found


def test_search_finds_a_client_by_its_number(consultant_client, practice):
    lakeside = practice["lakeside"]

    assert names(consultant_client, q=f"#{lakeside.pk}") == ["Lakeside Vets"]
    assert "Lakeside Vets" in names(consultant_client, q=str(lakeside.pk))
    assert names(consultant_client, q="#²") == []


def test_domain_of_reads_a_domain_from_what_people_paste():
    assert domain_of("https://www.Harbor-Dental.example/contact") == "harbor-dental.example"
    assert domain_of("@lakeside.example") == "lakeside.example"
    assert domain_of("Harbor Dental") == ""
    assert domain_of("dana") == ""


def test_filters_by_kind_and_open_tickets(consultant_client, practice):
    TicketFactory(client=practice["bakery"])
    TicketFactory(client=practice["lakeside"], status=TicketStatus.CLOSED)

    assert names(consultant_client, kind="contract") == ["Harbor Dental"]
    assert names(consultant_client, kind="transactional") == ["corner bakery", "Lakeside Vets"]
    assert names(consultant_client, kind="dropped") == ["Gone Ltd"]
    assert names(consultant_client, open_tickets="on") == ["corner bakery"]
    assert names(consultant_client, kind="transactional", q="vets") == ["Lakeside Vets"]


def test_a_bad_filter_is_ignored_and_said(consultant_client, practice):
    response = consultant_client.get(LIST, {"kind": "everything"})

    assert response.status_code == 200
    assert "(that filter was ignored)" in response.content.decode()
    assert len(names(consultant_client, kind="everything")) == 4


def test_each_row_shows_the_tier_open_tickets_and_the_years_revenue(
    consultant_client, practice, now
):
    harbor = practice["harbor"]
    ContractTicketFactory(contract=harbor.contracts.get(), opened_at=NOW - DAY)
    TicketFactory(client=harbor, status=TicketStatus.WAITING_ON_CLIENT)
    TicketFactory(client=harbor, status=TicketStatus.RESOLVED)
    # Every kind counts in revenue: $400.00 + $125.00 + $60.00; a charge of 400 days ago not.
    for kind, amount, days_ago in (
        (ChargeKind.CONTRACT_FEE, "400.00", 9),
        (ChargeKind.LABOUR, "125.00", 100),
        (ChargeKind.OTHER, "60.00", 300),
        (ChargeKind.LABOUR, "999.00", 400),
    ):
        ChargeFactory(
            client=harbor, kind=kind, amount=Decimal(amount), occurred_at=NOW - days_ago * DAY
        )

    body = consultant_client.get(LIST, {"q": "harbor"}).content.decode()

    row = body.split('id="client-rows"')[1].split("</tr>")[0]
    assert "Dana Whitfield &lt;dana@harbordental.example&gt;" in row
    assert '<span class="badge badge-client-contract">Business Plus</span>' in row
    assert f'href="/queue/?client={harbor.pk}"' in row
    assert ">2</a>" in row  # one in line, one waiting; the resolved one is not open
    assert "$585.00" in row


def test_pages_continue_by_name_without_offset_or_repeats(consultant_client, now):
    # Names that differ only in case sort together; equal names are ordered by id.
    created = [
        ClientFactory(name=f"{'Acme' if n % 2 else 'acme'} {n // 3:03d}")
        for n in range(PAGE_SIZE * 2 + 7)
    ]
    expected = [c.name for c in sorted(created, key=lambda c: (c.name.lower(), c.pk))]

    seen: list[str] = []
    after = None
    pages = 0
    while True:
        response = consultant_client.get(
            LIST, {"after": after} if after else {}, HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        seen += re.findall(r'<a class="fw-semibold" href="/clients/\d+/">([^<]*)</a>', body)
        pages += 1
        more = re.search(r'hx-get="/clients/\?after=(\d+)"', body)
        if not more:
            break
        after = more[1]

    assert pages == 3
    assert seen == expected


def test_search_as_you_type_swaps_the_table_and_show_more_appends_rows(consultant_client, now):
    for n in range(PAGE_SIZE + 1):
        ClientFactory(name=f"Harbor {n:03d}")

    table = consultant_client.get(LIST, {"q": "harbor"}, HTTP_HX_REQUEST="true")
    last = Client.objects.get(name=f"Harbor {PAGE_SIZE - 1:03d}")
    more = consultant_client.get(LIST, {"q": "harbor", "after": last.pk}, HTTP_HX_REQUEST="true")

    assert table.content.decode().lstrip().startswith('<div id="client-table"')
    assert f"q=harbor&amp;after={last.pk}" in table.content.decode()
    assert re.findall(r'">(Harbor \d+)</a>', more.content.decode()) == [f"Harbor {PAGE_SIZE:03d}"]
    assert "<html" not in more.content.decode()
    assert {"HX-Request", "HX-History-Restore-Request"} <= set(table["Vary"].split(", "))


def test_a_broken_page_link_says_so_and_shows_the_start(consultant_client, practice):
    response = consultant_client.get(LIST, {"after": "x~1"}, follow=True)

    assert "That page link is broken" in response.content.decode()
    assert len(names(consultant_client, after="x~1")) == 4


def test_a_page_costs_one_query_whatever_its_rows(consultant_client, now):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert consultant_client.get(LIST).status_code == 200
        return len(captured.captured_queries)

    for n in range(3):
        ContractFactory(client=ClientFactory(name=f"Small {n}"))
    few = count()
    for n in range(PAGE_SIZE + 10):
        client = ContactFactory(client=ClientFactory(name=f"Big {n}")).client
        ChargeFactory(client=client)
        TicketFactory(client=client)

    # The session, the user and its permissions (4), then the page: one query.
    assert few == count() == 5
