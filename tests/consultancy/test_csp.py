"""The app sends its Content-Security-Policy itself (django-csp), and every kind of page keeps to
it: no inline script, no inline event handler, no style attribute or element. One test per kind
of page: the login pages, the workspace, billing, insights, the public offer pages, unsubscribe
and the admin (its index, every changelist and add form, change forms).

tests/browser/test_strict_csp.py runs the workspace in Chromium under the same policy.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client as HttpClient
from django.urls import NoReverseMatch, reverse
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from billing.invoicing import invoices_issue
from billing.models import Invoice
from offers.models import ConversionOffer, OfferStatus
from offers.tokens import offer_token
from tests.billing.view_helpers import FEB, break_fix_client
from tests.browser.strict import CSP
from tests.factories import (
    ClientFactory,
    ContactFactory,
    ContractFactory,
    OfferFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db


class _Inline(HTMLParser):
    """Collects what a strict policy would refuse to run or apply."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script":
            # A JSON block (json_script) is data the browser never runs.
            self._in_script = "src" not in names and dict(attrs).get("type") != "application/json"
        if tag == "style":
            self.found.append("<style> element")
        if "style" in names:
            self.found.append(f"style= on <{tag} {dict(attrs)}>")
        handlers = sorted(name for name in names if name.startswith("on"))
        if handlers:
            self.found.append(f"inline handler {handlers} on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:80]}")


def directives(policy: str) -> dict[str, str]:
    """A policy's directives by name (django-csp writes them in no fixed order)."""
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


STRICT = directives(CSP)


def assert_strict(response: Any, *, status: int = 200) -> None:
    assert response.status_code == status, (response.status_code, response.get("Location"))
    assert directives(response["Content-Security-Policy"]) == STRICT
    parser = _Inline()
    parser.feed(response.content.decode())
    assert parser.found == [], parser.found


def test_the_policy_is_the_strict_one_of_the_browser_tests(anon_client: HttpClient) -> None:
    policy = anon_client.get(reverse("login"))["Content-Security-Policy"]

    assert directives(policy) == STRICT
    assert "unsafe" not in policy


def test_the_login_pages(anon_client: HttpClient) -> None:
    assert_strict(anon_client.get(reverse("login")))
    assert_strict(anon_client.get(reverse("admin:login")))


def test_the_workspace(consultant_client: HttpClient, manager_client: HttpClient) -> None:
    client = ClientFactory(name="Acme Dental")
    ContactFactory(client=client)
    ticket = TicketFactory(client=client, subject="Printer jammed")

    for http in (consultant_client, manager_client):
        assert_strict(http.get(reverse("tickets:queue")))
        assert_strict(http.get(reverse("tickets:queue"), headers={"HX-Request": "true"}))
        assert_strict(http.get(reverse("tickets:detail", args=[ticket.pk])))
        assert_strict(http.get(reverse("tickets:new")))
        assert_strict(http.get(reverse("tickets:new"), {"client": client.pk}))


def test_the_billing_pages(now: dt.datetime, manager_client: HttpClient) -> None:
    invoices_issue(period=FEB, client_ids=[break_fix_client("Corner Bakery", "125.00").pk])
    invoice = Invoice.objects.get()

    assert_strict(manager_client.get(reverse("billing:period", args=[str(FEB)])))
    for page in (reverse("billing:invoices"), reverse("billing:invoice", args=[invoice.number])):
        assert_strict(manager_client.get(page))
    index = manager_client.get(reverse("billing:index"))
    assert_strict(manager_client.get(index["Location"]) if index.status_code == 302 else index)


def test_the_insights_pages(now: dt.datetime, manager_client: HttpClient) -> None:
    contract = ContractFactory(starts_on=now.date() - dt.timedelta(days=320))

    for name in ("dashboard", "renewals", "drops"):
        assert_strict(manager_client.get(reverse(f"insights:{name}")))
    missed = reverse("insights:missed")
    assert_strict(manager_client.get(f"{missed}?days=90&target=response"))
    assert_strict(manager_client.get(f"{missed}?days=lots"), status=400)
    assert_strict(manager_client.get(reverse("insights:renewal_confirm", args=[contract.pk])))


def _offer_url(name: str, offer: ConversionOffer) -> str:
    purpose = "unsubscribe" if name == "unsubscribe" else "offer"
    return reverse(f"offers:{name}", args=[offer_token(offer, purpose)])


def test_the_public_offer_pages(now: dt.datetime, anon_client: HttpClient) -> None:
    offer = OfferFactory()

    assert_strict(anon_client.get(_offer_url("offer", offer)))
    assert_strict(anon_client.get(_offer_url("offer_terms", offer)))
    assert_strict(anon_client.get(reverse("offers:offer", args=["not-a-token"])), status=404)
    declined = anon_client.post(_offer_url("offer_decline", offer), follow=True)
    assert_strict(declined)
    ConversionOffer.objects.filter(pk=offer.pk).update(status=OfferStatus.EXPIRED)
    closed = anon_client.get(_offer_url("offer", offer))
    assert_strict(closed, status=closed.status_code)
    assert closed.status_code < 500


def test_the_unsubscribe_pages(now: dt.datetime, anon_client: HttpClient) -> None:
    offer = OfferFactory()

    assert_strict(anon_client.get(_offer_url("unsubscribe", offer)))
    assert_strict(anon_client.post(_offer_url("unsubscribe", offer), follow=True))


def _admin_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        for view in ("changelist", "add"):
            try:
                pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
            except NoReverseMatch:
                continue
    return pages


def test_the_admin(now: dt.datetime, manager_client: HttpClient) -> None:
    contract = ContractFactory()
    ContactFactory(client=contract.client)
    offer = OfferFactory()
    checked = 0

    for page in _admin_pages():
        # A one-row settings model's changelist leads to its change form.
        response = manager_client.get(page, follow=True)
        if response.status_code == 403:  # an add form the admin does not offer
            continue
        assert_strict(response)
        checked += 1
    task = PeriodicTask.objects.create(
        name="Nightly", task="offers.tasks.run_campaign", crontab=CrontabSchedule.objects.create()
    )
    for obj in (contract, contract.client, contract.plan, offer, task):
        meta = obj._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert_strict(manager_client.get(url))
        history = reverse(f"admin:{meta.app_label}_{meta.model_name}_history", args=[obj.pk])
        assert_strict(manager_client.get(history))

    assert checked > 10
