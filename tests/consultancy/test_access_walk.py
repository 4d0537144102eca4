"""Access control, proven: every address of the URLconf and every admin page, asked by the
manager, a consultant and an anonymous visitor, against the answer each should get.

The addresses are real (tests/consultancy/url_walk.py fills them with objects the factories
make), so a page answers as it does in use, not with a 404 for a dummy id. A URL that appears
without a line in the tables below fails the first test: a new page says who may open it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client as HttpClient
from django.urls import reverse

from offers.models import ConversionOffer
from tests.consultancy.url_walk import (
    ADMIN_PAGES,
    Route,
    World,
    admin_key,
    admin_models,
    build_world,
    every_model,
    routes,
)

pytestmark = pytest.mark.django_db

OK, FORBIDDEN, NOT_FOUND, POST_ONLY = 200, 403, 404, 405
LOGIN = "login"  # 302 to our login page or the admin's, with `next` back to the page
Answer = int | str  # a status code, LOGIN, or a path the 302 goes to (its start)

# (manager, consultant, anonymous): the answer to a GET. The offer pages are the only ones an
# anonymous visitor may use; besides them only the ways in (the two login pages), the health
# check and the favicon's redirect answer without a login.
PAGES: dict[str, tuple[Answer, Answer, Answer]] = {
    "home": ("/insights/", "/queue/", LOGIN),
    "health": (OK, OK, OK),
    "favicon": ("/static/", "/static/", "/static/"),
    "login": ("/", "/", OK),
    "logout": (POST_ONLY, POST_ONLY, LOGIN),
    # The admin's own pages: every staff member may open the index and change their password.
    "admin:index": (OK, OK, LOGIN),
    "admin:login": ("/admin/", "/admin/", OK),
    "admin:logout": (POST_ONLY, POST_ONLY, LOGIN),
    "admin:password_change": (OK, OK, LOGIN),
    "admin:password_change_done": (OK, OK, LOGIN),
    "admin:autocomplete": (OK, OK, LOGIN),
    "admin:jsi18n": (OK, OK, LOGIN),
    "admin:view_on_site": (NOT_FOUND, NOT_FOUND, LOGIN),  # no model has a page of its own
    "admin:app_list": (OK, OK, LOGIN),
    "/admin/{url}": (NOT_FOUND, NOT_FOUND, LOGIN),  # the admin's catch-all
    "admin:offers_campaignrun_preview": (OK, FORBIDDEN, LOGIN),
    # One old version in the audit trail: whoever may view the object may read it.
    "admin:auth_user_simple_history": (OK, FORBIDDEN, LOGIN),
    "admin:billing_ratecard_simple_history": (OK, FORBIDDEN, LOGIN),
    "admin:offers_campaignsettings_simple_history": (OK, FORBIDDEN, LOGIN),
    "admin:contracts_contractplan_simple_history": (OK, OK, LOGIN),
    "admin:contracts_servicecontract_simple_history": (OK, OK, LOGIN),
    "admin:offers_conversionoffer_simple_history": (OK, OK, LOGIN),
    # A client's data rights are the manager's: the export is a POST (it writes the history).
    "admin:clients_client_export": (POST_ONLY, FORBIDDEN, LOGIN),
    "admin:clients_client_erase": (OK, FORBIDDEN, LOGIN),
    # Nobody changes another user's password here: accounts are set up by whoever runs the server.
    "admin:auth_user_password_change": (FORBIDDEN, FORBIDDEN, LOGIN),
    # Billing and insights are the manager's; their actions take a POST (405 before the role).
    "billing:index": ("/billing/2025-02/", FORBIDDEN, LOGIN),
    "billing:invoices": (OK, FORBIDDEN, LOGIN),
    "billing:invoice": (OK, FORBIDDEN, LOGIN),
    "billing:credit": (POST_ONLY, POST_ONLY, LOGIN),
    "billing:period": (OK, FORBIDDEN, LOGIN),
    "billing:run": (POST_ONLY, POST_ONLY, LOGIN),
    "billing:issue": (POST_ONLY, POST_ONLY, LOGIN),
    "billing:export": (POST_ONLY, POST_ONLY, LOGIN),
    "insights:dashboard": (OK, FORBIDDEN, LOGIN),
    "insights:missed": (OK, FORBIDDEN, LOGIN),
    "insights:csv": (OK, FORBIDDEN, LOGIN),
    "insights:renewals": (OK, FORBIDDEN, LOGIN),
    "insights:renewal_confirm": (OK, FORBIDDEN, LOGIN),
    "insights:renew": (POST_ONLY, POST_ONLY, LOGIN),
    "insights:cancel": (POST_ONLY, POST_ONLY, LOGIN),
    "insights:drops": (OK, FORBIDDEN, LOGIN),
    "insights:drop": (POST_ONLY, POST_ONLY, LOGIN),
    "insights:undo_drop": (POST_ONLY, POST_ONLY, LOGIN),
    # The workspace: both roles work tickets.
    "tickets:queue": (OK, OK, LOGIN),
    "tickets:take_next": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:new": (OK, OK, LOGIN),
    "tickets:client_lookup": (OK, OK, LOGIN),
    "tickets:client_contacts": (OK, OK, LOGIN),
    "tickets:detail": (OK, OK, LOGIN),
    "tickets:status": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:reply": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:note": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:assign": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:time": (POST_ONLY, POST_ONLY, LOGIN),
    "tickets:priority": (POST_ONLY, POST_ONLY, LOGIN),
    # The client pages: anyone who works tickets may open any client. The actions are the
    # manager's: a confirmation page (GET) and the action (POST); one the client's standing
    # does not allow goes back to its page with the reason. The world's client holds a
    # contract: it may be renewed or cancelled, not offered a contract, dropped or reinstated.
    "tickets:clients": (OK, OK, LOGIN),
    "tickets:client": (OK, OK, LOGIN),
    "tickets:client_csv": (OK, OK, LOGIN),
    "tickets:client_offer": ("/clients/", FORBIDDEN, LOGIN),
    "tickets:client_renew": (OK, FORBIDDEN, LOGIN),
    "tickets:client_cancel": (OK, FORBIDDEN, LOGIN),
    "tickets:client_reinstate": ("/clients/", FORBIDDEN, LOGIN),
    "tickets:client_drop": ("/clients/", FORBIDDEN, LOGIN),
    # The client's pages behind a signed link: anyone holding it. Accept and decline take a
    # POST; a GET (from the browser's history) goes back to the offer.
    "offers:offer": (OK, OK, OK),
    "offers:offer_terms": (OK, OK, OK),
    "offers:offer_accept": ("/offers/", "/offers/", "/offers/"),
    "offers:offer_decline": ("/offers/", "/offers/", "/offers/"),
    "offers:unsubscribe": (OK, OK, OK),
}

# The POSTs only a manager may make: a consultant is refused them (403) and nothing changes.
MANAGER_POSTS = {
    "billing:credit",
    "billing:run",
    "billing:issue",
    "billing:export",
    "insights:renew",
    "insights:cancel",
    "insights:drop",
    "insights:undo_drop",
}

# Every registered ModelAdmin: the answers to (changelist, add, change, delete, history) for
# the manager and the consultant. "302" is a single-row model's list going to its one row.
# Anonymous visitors are sent to log in from all of them. Consultants keep client records
# current and read plans, contracts, offers and tickets; money and the campaign are managers'.
ADMIN: dict[str, tuple[str, str]] = {
    "auth.Group": ("403 403 403 403 403", "403 403 403 403 403"),
    "auth.User": ("200 403 200 403 200", "403 403 403 403 403"),
    "django_celery_beat.PeriodicTask": ("200 200 200 200 200", "403 403 403 403 403"),
    "django_celery_beat.ClockedSchedule": ("200 200 200 200 200", "403 403 403 403 403"),
    "django_celery_beat.CrontabSchedule": ("200 200 200 200 200", "403 403 403 403 403"),
    "django_celery_beat.SolarSchedule": ("200 200 200 200 200", "403 403 403 403 403"),
    "django_celery_beat.IntervalSchedule": ("200 200 200 200 200", "403 403 403 403 403"),
    "clients.Client": ("200 200 200 200 200", "200 200 200 403 200"),
    "clients.Contact": ("200 200 200 200 200", "200 200 200 403 200"),
    "clients.Charge": ("200 200 200 200 200", "200 403 200 403 200"),
    "clients.ClientEvent": ("200 403 200 403 200", "200 403 200 403 200"),
    # The outbox holds every client's emails: the managers', read-only (plus "send again").
    "clients.OutboundEmail": ("200 403 200 403 200", "403 403 403 403 403"),
    "contracts.BusinessCalendar": ("200 200 200 200 200", "200 403 200 403 200"),
    "contracts.ContractPlan": ("200 200 200 403 200", "200 403 200 403 200"),
    "contracts.ServiceContract": ("200 200 200 403 200", "200 403 200 403 200"),
    "contracts.RenewalSettings": ("302 403 200 403 200", "403 403 403 403 403"),
    "billing.RateCard": ("302 403 200 403 200", "403 403 403 403 403"),
    "billing.BillingRun": ("200 403 200 403 200", "403 403 403 403 403"),
    "billing.ContractPeriod": ("200 403 200 403 200", "403 403 403 403 403"),
    "billing.Invoice": ("200 403 200 403 200", "403 403 403 403 403"),
    "offers.CampaignSettings": ("302 403 200 403 200", "403 403 403 403 403"),
    "offers.ConversionOffer": ("200 403 200 403 200", "200 403 200 403 200"),
    "offers.CampaignRun": ("200 403 200 403 200", "403 403 403 403 403"),
    "tickets.Ticket": ("200 403 200 403 200", "200 403 200 403 200"),
    "tickets.TimeEntry": ("200 403 200 403 200", "200 403 200 403 200"),
    "insights.InsightsSettings": ("302 403 200 403 200", "403 403 403 403 403"),
    # The login protection: managers see the attempts and delete them to unlock someone.
    "axes.AccessAttempt": ("200 403 200 200 200", "403 403 403 403 403"),
    "axes.AccessLog": ("200 403 200 403 200", "403 403 403 403 403"),
    "axes.AccessFailureLog": ("403 403 403 403 403", "403 403 403 403 403"),
}

PERSONAS = ("manager_client", "consultant_client", "anon_client")


def expectations() -> dict[str, tuple[Answer, Answer, Answer]]:
    """Every route's expected answers: PAGES, and the admin's pages from ADMIN."""
    expected = dict(PAGES)
    for model in admin_models():
        rows = ADMIN.get(model._meta.label)
        if rows is None:
            continue
        manager, consultant = (row.split() for row in rows)
        for page, m, c in zip(ADMIN_PAGES, manager, consultant, strict=True):
            expected[f"admin:{admin_key(model)}_{page}"] = (int(m), int(c), LOGIN)
        # The admin's old address of an object goes to its change page for any staff member;
        # the change page then answers as above.
        meta = model._meta
        expected[f"/admin/{meta.app_label}/{meta.model_name}/{{object_id}}/"] = (
            f"/admin/{meta.app_label}/{meta.model_name}/",
            f"/admin/{meta.app_label}/{meta.model_name}/",
            LOGIN,
        )
    return expected


EXPECTED = expectations()
ROUTES = routes()


def test_every_url_and_model_admin_has_an_expected_answer():
    names = {route.name for route in ROUTES}

    assert {m._meta.label for m in admin_models()} == set(ADMIN), "a ModelAdmin without a row"
    assert sorted(names - set(EXPECTED)) == [], "URLs without an expected answer"
    assert sorted(set(EXPECTED) - names) == [], "expectations for URLs that are gone"
    assert len(names) > 200  # the walk found the admin's pages, not just ours


def _mismatch(response: Any, path: str, expected: Answer) -> str | None:
    code = response.status_code
    if expected == LOGIN:
        location = urlsplit(response.get("Location", ""))
        ok = (
            code == 302
            and location.path in {reverse("login"), reverse("admin:login")}
            and parse_qs(location.query).get("next") == [path]
        )
    elif isinstance(expected, str):
        location = response.get("Location", "")
        ok = code == 302 and location.startswith(expected) and "login" not in location
    else:
        ok = code == expected
    if ok:
        return None
    return f"{path}: expected {expected}, got {code} {response.get('Location', '')}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_the_intended_answer_on_every_page(request, persona, manager, now):
    http: HttpClient = request.getfixturevalue(persona)
    http.raise_request_exception = False
    world = build_world(manager)
    column = PERSONAS.index(persona)

    wrong = []
    for route in ROUTES:
        path = world.path(route)
        problem = _mismatch(http.get(path), path, EXPECTED[route.name][column])
        if problem:
            wrong.append(f"{route.name} {problem}")

    assert wrong == []


# --- Nothing changes on a GET, or on a refused POST -----------------------------------------------
# Written on a GET by design, and so left out of the comparison: a login's time, the session
# (where messages wait for the next page), and the first time an offer's page was opened (the
# client's email link is a GET; it is a read receipt, not a change of the offer's state).
UNCOMPARED = {
    User: {"last_login"},
    ConversionOffer: {"opened_at"},
}
# Sessions, and django-axes' record of sign-in attempts: a refused login is one to count.
NOT_COMPARED_MODELS = {Session, AccessAttempt, AccessLog, AccessFailureLog}


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the world is small), without the columns a GET may write."""
    rows = {}
    for model in every_model():
        if model in NOT_COMPARED_MODELS:
            continue
        skip = UNCOMPARED.get(model, set())
        fields = [f.attname for f in model._meta.concrete_fields if f.name not in skip]
        rows[model._meta.label] = list(model._base_manager.order_by("pk").values_list(*fields))
    for model in every_model():
        for m2m in model._meta.local_many_to_many:
            through = m2m.remote_field.through
            rows[through._meta.label] = list(through._base_manager.order_by("pk").values_list())
    return rows


def _changes(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def test_no_get_changes_anything(manager_client, manager, now):
    manager_client.raise_request_exception = False
    world = build_world(manager)
    changed = []
    for route in ROUTES:
        path = world.path(route)
        before = snapshot()
        manager_client.get(path)
        if changes := _changes(before, snapshot()):
            changed.append(f"{route.name} changed {changes}")

    assert changed == []


def _refused_posts(world: World, persona: str) -> list[tuple[Route, Answer]]:
    """The routes the persona may not POST to, with the refusal expected."""
    column = PERSONAS.index(persona)
    refused: list[tuple[Route, Answer]] = []
    for route in ROUTES:
        answer = EXPECTED[route.name][column]
        if answer in {LOGIN, FORBIDDEN}:
            refused.append((route, answer))
        elif persona == "consultant_client" and route.name in MANAGER_POSTS:
            refused.append((route, FORBIDDEN))
    return refused


@pytest.mark.parametrize("persona", ["consultant_client", "anon_client"])
def test_a_refused_post_changes_nothing(request, persona, manager, now):
    http: HttpClient = request.getfixturevalue(persona)
    http.raise_request_exception = False
    world = build_world(manager)
    refused = _refused_posts(world, persona)
    # Something to lose on each: the form values a manager would post.
    data = {
        "client": world.client.pk,
        "contract": world.contract.pk,
        "reason": "x",
        "confirm": "on",
    }

    wrong = []
    for route, answer in refused:
        path = world.path(route)
        before = snapshot()
        response = http.post(path, data)
        # A page that only shows things refuses a POST before asking who is there (405).
        if response.status_code == POST_ONLY and answer == FORBIDDEN:
            pass
        elif problem := _mismatch(response, path, answer):
            wrong.append(f"POST {route.name} {problem}")
        if changes := _changes(before, snapshot()):
            wrong.append(f"POST {route.name} changed {changes}")

    assert len(refused) > (100 if persona == "anon_client" else 60)
    assert wrong == []


def test_a_consultant_is_refused_every_manager_post(consultant_client, manager, now):
    # Guards the list above: each of these URLs exists and takes a POST.
    names = {route.name for route in ROUTES}

    assert names >= MANAGER_POSTS
    assert all(PAGES[name][0] == POST_ONLY for name in MANAGER_POSTS)


def test_the_snapshot_sees_a_change(manager):
    # Guards the comparison: a test that cannot fail is a defect.
    before = snapshot()
    User.objects.filter(pk=manager.pk).update(first_name="Changed")

    assert _changes(before, snapshot()) == ["auth.User"]
