"""Our pages carry no code and no style inline, so that they run under a Content-Security-Policy
without 'unsafe-inline' or 'unsafe-eval': scripts come from static/ files, and htmx is given
nothing to evaluate (tests/browser/test_strict_csp.py runs them under such a policy)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client as HttpClient
from django.urls import reverse

from tests.factories import ContractFactory, ContractTicketFactory, OfferFactory, TicketFactory
from tickets.models import Ticket, TicketStatus
from tickets.services import ticket_add_note

pytestmark = pytest.mark.django_db

TAG = r"<[a-zA-Z][^>]*?"
INLINE = {
    "script without src": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "script from elsewhere": re.compile(r"<script[^>]*\bsrc=\"(?!/static/)", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(TAG + r"\sstyle=", re.IGNORECASE),
    "event handler attribute": re.compile(TAG + r"\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on": re.compile(TAG + r"\s(data-)?hx-on", re.IGNORECASE),
    "hx-vars": re.compile(TAG + r"\s(data-)?hx-vars=", re.IGNORECASE),
    "htmx trigger filter": re.compile(TAG + r"\s(data-)?hx-trigger=\"[^\"]*\[", re.IGNORECASE),
    "javascript: or js: value": re.compile(TAG + r"=[\"'](javascript|js):", re.IGNORECASE),
}


def _pages(ticket: Ticket, http: HttpClient) -> dict[str, str]:
    closed = ContractTicketFactory(
        status=TicketStatus.CLOSED, resolved_at=ticket.opened_at, closed_at=ticket.opened_at
    )
    contract_client = ContractFactory().client
    queue = reverse("tickets:queue")
    new = reverse("tickets:new")
    return {
        "queue": http.get(queue).content.decode(),
        "queue, filtered badly": http.get(queue, {"tier": "x"}).content.decode(),
        "queue fragment": http.get(queue, HTTP_HX_REQUEST="true").content.decode(),
        "ticket": http.get(reverse("tickets:detail", args=[ticket.pk])).content.decode(),
        "ticket, refused": http.post(reverse("tickets:note", args=[ticket.pk])).content.decode(),
        "closed ticket": http.get(reverse("tickets:detail", args=[closed.pk])).content.decode(),
        "new ticket": http.get(new).content.decode(),
        "new ticket, client chosen": http.get(new, {"client": contract_client.pk}).content.decode(),
        "new ticket, refused": http.post(new, {"client": ticket.client_id}).content.decode(),
        "client lookup": http.get(reverse("tickets:client_lookup"), {"q": "cli"}).content.decode(),
        "contacts": http.get(
            reverse("tickets:client_contacts"), {"client": ticket.client_id}
        ).content.decode(),
    }


def test_workspace_pages_have_no_inline_code_or_style(
    now: dt.datetime, consultant: User, consultant_client: HttpClient
) -> None:
    # A transactional ticket whose client has an offer open: the page shows every part it has.
    offer = OfferFactory()
    ticket = TicketFactory(client=offer.client, contact=offer.contact)
    ticket_add_note(ticket=ticket, body="Looked at it", actor=consultant)

    found = {
        (page, what, match.group(0))
        for page, html in _pages(ticket, consultant_client).items()
        for what, pattern in INLINE.items()
        for match in pattern.finditer(html)
    }

    assert found == set()


@pytest.mark.parametrize("who", ["anonymous", "roleless"])
def test_the_sign_in_and_no_role_pages_have_none_either(who: str, roleless: User) -> None:
    http = HttpClient()
    if who == "roleless":
        http.force_login(roleless)  # sent home, which has no page for them

    html = http.get(reverse("login" if who == "anonymous" else "home")).content.decode()

    assert [w for w, pattern in INLINE.items() if pattern.search(html)] == []


def test_htmx_is_told_to_evaluate_nothing(consultant_client: HttpClient) -> None:
    html = consultant_client.get(reverse("tickets:new")).content.decode()

    meta = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html)
    assert meta is not None
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    # htmx would otherwise add its indicator styles as an inline <style> (app.css has them).
    assert config["includeIndicatorStyles"] is False
