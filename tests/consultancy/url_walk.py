"""The whole URLconf, each pattern made a real address: a ticket, an invoice, an offer with a
signed link and one object of every model the admin shows, made by the factories.

tests/consultancy/test_access_walk.py asks every page with each persona;
tests/consultancy/test_hostile_input.py reuses the objects.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from billing.models import ContractPeriod, Invoice, RateCard
from clients.models import Client, EmailKind, OutboundEmail
from clients.services import client_drop
from contracts.models import RenewalSettings, ServiceContract
from insights.models import InsightsSettings
from offers.models import CampaignSettings, ConversionOffer
from offers.tokens import offer_token
from tests.billing.billing_helpers import FEBRUARY, billed_run, issued_invoice
from tests.conftest import NOW
from tests.factories import (
    CampaignRunFactory,
    ChargeFactory,
    ClientFactory,
    ContactFactory,
    ContractFactory,
    ContractTicketFactory,
    OfferFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
)
from tickets.models import Ticket


@dataclass(frozen=True)
class Route:
    """One pattern of the URLconf: its name ("namespace:name", or the pattern for an unnamed
    one), the path with `{param}` holes, and the parameters' names."""

    name: str
    template: str
    params: tuple[str, ...]
    callback: Any


def _part(pattern: RoutePattern | RegexPattern) -> tuple[str, tuple[str, ...]]:
    if isinstance(pattern, RoutePattern):
        text = str(pattern)
        names = tuple(pattern.converters)
        for name in names:
            start = text.index("<")
            text = text[:start] + "{" + name + "}" + text[text.index(">", start) + 1 :]
        return text, names
    regex = pattern.regex
    names = tuple(regex.groupindex)
    text = regex.pattern.lstrip("^").rstrip("$")
    for name in names:
        start = text.index(f"(?P<{name}>")
        text = text[:start] + "{" + name + "}" + text[_group_end(text, start) + 1 :]
    return text, names


def _group_end(text: str, start: int) -> int:
    """The index of the parenthesis that closes the group opening at `start`."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(text)


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        part, params = _part(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n)
            yield from _walk(entry, prefix + part, inner)
        else:
            assert isinstance(entry, URLPattern)
            name = ":".join(n for n in (namespace, entry.name) if n) if entry.name else ""
            template = "/" + prefix + part
            yield Route(name or template, template, params, entry.callback)


def routes() -> list[Route]:
    return list(_walk(get_resolver()))


# --- The objects behind the addresses ------------------------------------------------------------
ADMIN_PAGES = ("changelist", "add", "change", "delete", "history")


def admin_models() -> list[type[models.Model]]:
    return list(admin.site._registry)


def admin_key(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}"


@dataclass
class World:
    manager: User
    client: Client
    dropped: Client
    contract: ServiceContract
    ticket: Ticket
    offer: ConversionOffer
    invoice: Invoice
    credit_note: Invoice | None

    def object_of(self, model: type[models.Model]) -> models.Model:
        found = model._default_manager.order_by("pk").first()
        assert found is not None, f"the world has no {model._meta.label}"
        return found

    def values(self, route: Route) -> dict[str, str]:
        """The real values that fill the route's parameters."""
        model = _admin_model(route.name) or _admin_model_of_template(route.template)
        known = {
            "pk": str(self.pk_for(route)),
            "ref": self.invoice.number,
            "period": str(FEBRUARY),
            "export_format": "xero",
            "section": "workload",
            "table": "tiers",
            "figure": "money",
            "token": offer_token(
                self.offer, "unsubscribe" if route.name == "offers:unsubscribe" else "offer"
            ),
            "app_label": "clients",
            "url": "no/such/page/",
            "content_type_id": str(ContentType.objects.get_for_model(Client).pk),
        }
        if model is not None:
            found = self.object_of(model)
            known["object_id"] = str(found.pk)
            if "version_id" in route.params:  # the audit trail's page of one old version
                known["version_id"] = str(found.history.order_by("history_id").last().history_id)  # type: ignore[attr-defined]
        elif route.name == "admin:view_on_site":
            known["object_id"] = str(self.client.pk)
        if route.name == "admin:auth_user_password_change":
            known["id"] = str(self.manager.pk)
        return {name: known[name] for name in route.params}

    def pk_for(self, route: Route) -> int:
        """The object a route's `pk` names: the client on the client pages, the ticket on the
        ticket pages, the contract elsewhere (the renewals)."""
        if route.name in CLIENT_PAGES:
            return self.client.pk
        return self.ticket.pk if route.name.startswith("tickets:") else self.contract.pk

    def path(self, route: Route) -> str:
        return route.template.format(**self.values(route)) + QUERIES.get(route.name, "")


# The workspace's pages of one client (tickets.urls), whose `pk` is the client's.
CLIENT_PAGES = {
    "tickets:client",
    "tickets:client_csv",
    "tickets:client_offer",
    "tickets:client_renew",
    "tickets:client_cancel",
    "tickets:client_reinstate",
    "tickets:client_drop",
}
# Pages that answer 400 without a query string: asked the way their links ask them.
QUERIES = {
    "insights:missed": "?days=30&target=response",
    "admin:autocomplete": "?app_label=clients&model_name=charge&field_name=client&term=Har",
}


def _admin_model(name: str) -> type[models.Model] | None:
    for model in admin_models():
        if name.startswith(f"admin:{admin_key(model)}_"):
            return model
    return None


def _admin_model_of_template(template: str) -> type[models.Model] | None:
    # The admin's unnamed redirect from /admin/<app>/<model>/<id>/ to the change page.
    for model in admin_models():
        if template == f"/admin/{model._meta.app_label}/{model._meta.model_name}/{{object_id}}/":
            return model
    return None


def build_world(manager: User) -> World:
    """One of everything, on the suite's clock (the caller stops it at NOW)."""
    client = ClientFactory(name="Harbor Dental")
    ContactFactory(client=client, is_primary=True)
    contract = ContractFactory(client=client, plan=PlanFactory(), starts_on=dt.date(2025, 1, 1))
    ticket = ContractTicketFactory(client=client, contract=contract)
    TicketFactory()  # a transactional ticket too
    TimeEntryFactory(ticket=ticket)
    ChargeFactory(client=client, amount=Decimal("40.00"))
    dropped = client_drop(
        client=ClientFactory(name="Gone Ltd"), reason="Never converted", by=manager
    )
    offer = OfferFactory()
    OutboundEmail.objects.create(
        kind=EmailKind.TICKET_ACKNOWLEDGEMENT,
        key=f"ticket-acknowledgement:{ticket.pk}:walk@example.com",
        client=client,
        from_email="desk@example.com",
        to="walk@example.com",
        subject="Your ticket",
        text="We have it.",
    )
    CampaignRunFactory()
    billed_run()
    invoice = issued_invoice()
    Group.objects.get_or_create(name="Managers")
    schedule = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    CrontabSchedule.objects.get_or_create(minute="0", hour="3")
    SolarSchedule.objects.get_or_create(event="sunrise", latitude=40.7, longitude=-74.0)
    ClockedSchedule.objects.create(clocked_time=NOW + dt.timedelta(days=1))
    if not PeriodicTask.objects.exists():
        PeriodicTask.objects.create(name="walk", task="walk", interval=schedule)
    # One failed sign-in, as django-axes records it.
    AccessAttempt.objects.create(
        username="alice", ip_address="203.0.113.7", user_agent="walk", failures_since_start=1
    )
    AccessLog.objects.create(username="alice", ip_address="203.0.113.7", user_agent="walk")
    AccessFailureLog.objects.create(username="alice", ip_address="203.0.113.7", user_agent="walk")
    for singleton in (RenewalSettings, RateCard, CampaignSettings, InsightsSettings):
        singleton.load()  # type: ignore[attr-defined]
    assert ContractPeriod.objects.exists()
    for model in admin_models():
        assert model._default_manager.exists(), f"the world has no {model._meta.label}"
        first = model._default_manager.order_by("pk").first()
        if hasattr(first, "history") and not first.history.exists():  # type: ignore[union-attr]
            first.save()  # type: ignore[union-attr]  # made in bulk: one version to walk to
    return World(
        manager=manager,
        client=client,
        dropped=dropped,
        contract=contract,
        ticket=ticket,
        offer=offer,
        invoice=invoice,
        credit_note=None,
    )


def every_model() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if not m._meta.proxy]
