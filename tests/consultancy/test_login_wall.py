"""The login wall: every page but a short allow-list sends an anonymous visitor to log in.

The URLconf is walked, not listed by hand, so a page added later is covered the day it lands.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client as HttpClient
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.resolvers import RegexPattern, RoutePattern

pytestmark = pytest.mark.django_db

# Pages an anonymous visitor may open: logging in (ours and the admin's) and the health check
# the load balancer polls. Static files are served by WhiteNoise, outside the URLconf.
PUBLIC = {"login", "health", "favicon", "admin:login"}
# Clients never log in: they act on signed links in the offer email.
PUBLIC_OFFER_PAGES = {
    "offers:offer",
    "offers:offer_terms",
    "offers:offer_accept",
    "offers:offer_decline",
    "offers:unsubscribe",
}

DUMMY_VALUES = ["1", "x", str(uuid.UUID(int=1))]
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")
_ROUTE_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Page:
    name: str  # "namespace:name", or the path pattern for an unnamed one
    path: str  # a concrete path, dummy values in place of the arguments
    has_arguments: bool
    callback: object


def _fill_regex(regex: str) -> str:
    def value(match: re.Match[str]) -> str:
        body = match["body"]
        # An alternation of names (the admin's app_label): take the first of them.
        candidates = [*DUMMY_VALUES, *body.split("|")]
        return next(c for c in candidates if re.fullmatch(body, c))

    return _GROUP.sub(value, regex).lstrip("^").rstrip("$").replace("\\", "")


def _fill_route(pattern: RoutePattern) -> str:
    def value(match: re.Match[str]) -> str:
        converter = pattern.converters[match["name"]]
        return next(c for c in DUMMY_VALUES if re.fullmatch(converter.regex, c))

    return _ROUTE_PARAM.sub(value, str(pattern))


def _fill(pattern: RoutePattern | RegexPattern) -> tuple[str, bool]:
    if isinstance(pattern, RoutePattern):
        return _fill_route(pattern), bool(pattern.converters)
    return _fill_regex(pattern.regex.pattern), bool(pattern.regex.groups)


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = "", args: bool = False
) -> Iterator[Page]:
    for entry in resolver.url_patterns:
        part, has_args = _fill(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace) if n)
            yield from _walk(entry, prefix + part, inner, args or has_args)
        else:
            assert isinstance(entry, URLPattern)
            name = ":".join(n for n in (namespace, entry.name) if n) if entry.name else ""
            yield Page(
                name=name or f"{namespace}:{entry.pattern}",
                path="/" + prefix + part,
                has_arguments=args or has_args,
                callback=entry.callback,
            )


PAGES = list(_walk(get_resolver()))


def test_the_walk_finds_the_pages_we_know_about():
    # Guards the walk itself: if it found nothing, every test below would pass vacuously.
    names = {page.name for page in PAGES}

    assert {"home", "health", "login", "logout", "admin:index"} <= names
    assert "admin:contracts_servicecontract_changelist" in names
    assert "admin:contracts_servicecontract_change" in names
    assert "admin:app_list" in names
    assert len(PAGES) > 50


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.path)
def test_each_page_resolves_to_the_view_it_was_built_from(page):
    # The dummy values must land on the pattern under test, not on a catch-all behind it.
    assert resolve(page.path).func == page.callback


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if p.name not in PUBLIC | PUBLIC_OFFER_PAGES],
    ids=lambda page: page.path,
)
def test_anonymous_visitor_is_sent_to_log_in(anon_client, page):
    response = anon_client.get(page.path)

    assert response.status_code == 302, f"{page.name} answered {response.status_code}"
    location = urlsplit(response["Location"])
    assert location.path in {reverse("login"), reverse("admin:login")}, page.name
    assert parse_qs(location.query)["next"] == [page.path]


def test_only_the_allow_list_is_public():
    # A view marked login_not_required that is not on the allow-list is a hole in the wall.
    public = {page.name for page in PAGES if not getattr(page.callback, "login_required", True)}

    assert public == PUBLIC | PUBLIC_OFFER_PAGES


@pytest.mark.parametrize("name", sorted(PUBLIC_OFFER_PAGES))
def test_offer_pages_answer_a_bad_link_without_asking_to_log_in(anon_client, name):
    response = anon_client.get(reverse(name, args=["not-a-signed-token"]))

    # The offer, terms and unsubscribe pages say the link is not valid; accept and decline
    # take POSTs.
    assert response.status_code in {404, 405}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_allow_listed_pages_open_without_logging_in(anon_client, name):
    # The favicon answers with a redirect to the static file; the rest with their page.
    expected = 302 if name == "favicon" else 200
    assert anon_client.get(reverse(name)).status_code == expected


def test_health_check_answers_ok_as_plain_text(anon_client):
    response = anon_client.get(reverse("health"))

    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_anonymous_post_is_sent_to_log_in_too(anon_client):
    response = anon_client.post(reverse("admin:contracts_servicecontract_changelist"), {})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("login")


# --- Logging in -------------------------------------------------------------------------------
def test_login_page_shows_a_sign_in_form(anon_client):
    response = anon_client.get(reverse("login"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "<form" in content
    assert 'name="username"' in content
    assert 'name="password"' in content
    assert "registration/login.html" in [t.name for t in response.templates]


def test_good_password_logs_in_and_goes_home(manager, password):
    http = HttpClient()

    response = http.post(reverse("login"), {"username": manager.username, "password": password})

    assert response.status_code == 302
    assert response["Location"] == reverse("home") == "/"
    assert int(http.session[SESSION_KEY]) == manager.pk


def test_logging_in_returns_to_the_page_asked_for(consultant, password):
    http = HttpClient()
    wanted = reverse("admin:clients_client_changelist")

    response = http.post(
        reverse("login"),
        {"username": consultant.username, "password": password, "next": wanted},
    )

    assert response.status_code == 302
    assert response["Location"] == wanted


def test_login_does_not_redirect_off_site(consultant, password):
    http = HttpClient()

    response = http.post(
        reverse("login"),
        {"username": consultant.username, "password": password, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_bad_password_shows_an_error_and_stays_on_the_page(manager):
    http = HttpClient()

    response = http.post(reverse("login"), {"username": manager.username, "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "correct username and password" in response.content.decode()
    assert SESSION_KEY not in http.session


def test_logged_in_user_opening_the_login_page_goes_home(manager_client):
    response = manager_client.get(reverse("login"))

    assert response.status_code == 302
    assert response["Location"] == "/"


# --- Where each role lands --------------------------------------------------------------------
# Where consultancy.views.home sends each role. A manager's day starts at the insights (issue
# 13); the queue and the admin are one click away in the navigation.
LANDING = {"manager_client": "insights:dashboard", "consultant_client": "tickets:queue"}


@pytest.mark.parametrize("persona", sorted(LANDING))
def test_home_sends_staff_to_their_landing_page(request, persona):
    http = request.getfixturevalue(persona)

    response = http.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == reverse(LANDING[persona])
    assert http.get(response["Location"]).status_code == 200


def test_home_tells_a_user_without_a_role_to_ask_for_one(roleless):
    http = HttpClient()
    http.force_login(roleless)

    response = http.get(reverse("home"))

    assert response.status_code == 403
    assert "no_role.html" in [t.name for t in response.templates]
    assert "has no role yet" in response.content.decode()


def test_home_sends_an_anonymous_visitor_to_log_in(anon_client):
    response = anon_client.get(reverse("home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_the_favicon_is_served_to_anyone_without_a_404(anon_client):
    response = anon_client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    assert anon_client.head("/favicon.ico").status_code == 302
