"""What the admin tests of every app share: the pages' addresses, reading a changelist's rows and
messages, what a changelist costs in queries, and the forms they post."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import Client
from contracts.models import RenewalMode

CONTRACTS = reverse("admin:contracts_servicecontract_changelist")
CONTRACT_ADD = reverse("admin:contracts_servicecontract_add")


def changelist_rows(response: Any) -> list[Any]:
    return list(response.context["cl"].result_list)


def admin_messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def changelist_queries(
    http: HttpClient, url: str, build_row: Callable[[int], object], sizes: tuple[int, ...] = (3, 30)
) -> list[tuple[int, int]]:
    """(rows listed, queries made) for the changelist at `url` after building each size of
    rows with `build_row(n)`; the caches are warmed by a first request."""
    already = http.get(url).context["cl"].result_count
    measured = []
    built = 0
    for rows in sizes:
        while built < rows:
            build_row(built)
            built += 1
        with CaptureQueriesContext(connection) as queries:
            response = http.get(url)
        assert response.status_code == 200
        measured.append((response.context["cl"].result_count - already, len(queries)))
    return measured


def start_form(client: Client, plan: Any, **overrides: Any) -> dict[str, Any]:
    """The add-contract form, filled in to start `plan` for `client` on 1 April."""
    data = {
        "client": client.pk,
        "plan": plan.pk,
        "starts_on": "2025-04-01",
        "discount_percent": "10",
        "monthly_price": "",
        "renewal": RenewalMode.AUTOMATIC,
    }
    data.update(overrides)
    return data


def client_page_form(client: Client, **fields: str) -> dict[str, str]:
    """The client page's form as it stands for `client`, with `fields` changed."""
    data = {
        "name": client.name,
        "customer_since": client.customer_since.isoformat(),
        "notes": client.notes,
        **({"opted_out": "on"} if client.offers_opt_out else {}),
    }
    for prefix in ("contacts", "contracts"):
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}
