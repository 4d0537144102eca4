"""The client list (/clients/): search, filters and keyset pages, one query a page.

Rows come in the order of the case-insensitive name index (`client_name_lower_idx`), the id
breaking ties; a page continues after the last client shown (its id in the link, its name read
back in the same query), never with OFFSET, and nothing counts all clients. Each row's figures
are correlated subqueries that run for the rows shown only, each on an index that starts with
the client: its open tickets, and what it was billed in the last twelve months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Lower
from django.urls import reverse_lazy

from clients.ids import parse_id
from clients.models import Client, ClientStatus, Contact
from contracts.models import ContractStatus
from offers.campaign import count_rows
from tickets.models import Ticket
from tickets.queue import Badge, badge_renderer

PAGE_SIZE = 50


class Kind:
    """The list's kinds of client (the filter's values)."""

    CONTRACT = "contract"
    TRANSACTIONAL = "transactional"
    DROPPED = "dropped"
    CHOICES = (
        ("", "Every client"),
        (CONTRACT, "On a contract"),
        (TRANSACTIONAL, "Transactional"),
        (DROPPED, "Dropped"),
    )


@dataclass(frozen=True)
class ClientFilters:
    q: str = ""
    kind: str = ""
    open_tickets: bool = False  # only clients with tickets open


@dataclass(frozen=True)
class ClientRow:
    pk: int
    url: str
    name: str
    contact: str  # the primary contact: "Dana Whitfield <dana@harbordental.example>"
    tier_badge: str  # HTML from the badge include: the plan, "Transactional" or "Dropped"
    opted_out: bool
    open_tickets: int
    queue_url: str  # the client's open tickets in the queue
    revenue: Decimal


@dataclass
class ClientListPage:
    rows: list[ClientRow]
    next_after: int | None  # the last client's id, when more follow


def domain_of(term: str) -> str:
    """The email domain a search term names, if it looks like one ("harbordental.example",
    "@harbordental.example", "https://www.harbordental.example/about"); else ""."""
    text = term.lower().removeprefix("https://").removeprefix("http://").removeprefix("www.")
    text = text.lstrip("@").split("/", 1)[0]
    return text if "." in text and " " not in text else ""


def _matching(clients: QuerySet[Client], term: str) -> QuerySet[Client]:
    """Clients whose name, a contact's name or email, an email's domain or "#id" is `term`."""
    contacts = Q(name__icontains=term) | Q(email__icontains=term)
    if domain := domain_of(term):
        contacts |= Q(email__icontains=f"@{domain}") | Q(email__iendswith=f".{domain}")
    match = Q(name__icontains=term) | Q(
        Exists(Contact.objects.filter(contacts, client=OuterRef("pk")))
    )
    if (pk := parse_id(term.removeprefix("#"))) is not None:
        match |= Q(pk=pk)
    return clients.filter(match)


KIND_FILTERS = {
    Kind.CONTRACT: Q(active_contract__isnull=False),
    Kind.TRANSACTIONAL: Q(status=ClientStatus.ACTIVE, active_contract__isnull=True),
    Kind.DROPPED: Q(status=ClientStatus.DROPPED),
}


def client_queryset(filters: ClientFilters, now: dt.datetime) -> QuerySet[Client]:
    """The clients the filters ask for, in list order, with each row's figures."""
    clients: QuerySet[Client] = (
        Client.objects.alias(
            # At most one of each per client (a constraint each), so the joins add no rows.
            active_contract=FilteredRelation(
                "contracts", condition=Q(contracts__status=ContractStatus.ACTIVE)
            ),
            primary_contact=FilteredRelation("contacts", condition=Q(contacts__is_primary=True)),
        )
        .filter(KIND_FILTERS.get(filters.kind, Q()))
        .annotate(
            sort_name=Lower("name"),
            plan_name=F("active_contract__plan__name"),
            contact_name=F("primary_contact__name"),
            contact_email=F("primary_contact__email"),
            open_tickets=count_rows(Ticket.objects.open().filter(client=OuterRef("pk"))),
        )
        .with_trailing_revenue(now)
    )
    if filters.open_tickets:
        clients = clients.filter(Exists(Ticket.objects.open().filter(client=OuterRef("pk"))))
    if filters.q:
        clients = _matching(clients, filters.q)
    return clients.order_by("sort_name", "pk")


CLIENT_URL = reverse_lazy("tickets:client", args=[0])
QUEUE_URL = reverse_lazy("tickets:queue")


def _row(c: dict[str, Any], client_prefix: str, badge: Badge) -> ClientRow:
    if c["status"] == ClientStatus.DROPPED:
        tier = badge("client", "dropped", "Dropped")
    elif c["plan_name"]:
        tier = badge("client", "contract", c["plan_name"])
    else:
        tier = badge("client", "transactional", "Transactional")
    contact = f"{c['contact_name']} <{c['contact_email']}>" if c["contact_email"] else ""
    return ClientRow(
        pk=c["pk"],
        url=f"{client_prefix}{c['pk']}/",
        name=c["name"],
        contact=contact,
        tier_badge=tier,
        opted_out=c["offers_opt_out"],
        open_tickets=c["open_tickets"],
        queue_url=f"{QUEUE_URL}?client={c['pk']}",
        revenue=c["trailing_revenue"],
    )


ROW_FIELDS = (
    "pk", "name", "status", "offers_opt_out", "plan_name", "contact_name", "contact_email",
    "open_tickets", "trailing_revenue",
)  # fmt: skip


def client_list(
    filters: ClientFilters, now: dt.datetime, after: int | None = None
) -> ClientListPage:
    """One page of the list, after the client with id `after`: one query."""
    clients = client_queryset(filters, now)
    if after is not None:
        # The keyset condition on (lower(name), id), the cursor's name read back in the query.
        name = Subquery(Client.objects.filter(pk=after).values(n=Lower("name"))[:1])
        clients = clients.filter(Q(sort_name__gt=name) | Q(sort_name=name, pk__gt=after))
    fetched = list(clients.values(*ROW_FIELDS)[: PAGE_SIZE + 1])
    shown = fetched[:PAGE_SIZE]
    prefix = str(CLIENT_URL).removesuffix("0/")
    badge = badge_renderer()
    return ClientListPage(
        rows=[_row(c, prefix, badge) for c in shown],
        next_after=shown[-1]["pk"] if len(fetched) > PAGE_SIZE else None,
    )
