"""The simulated people of the load bench (bench/load.py): consultants and managers as locust
users, and the queue reader of the capacity search. bench/loadgen.py drives them.

Every simulated user signs in once, through the real login form (GET for the CSRF token, then
POST), before anything is timed; the app's django-axes limits count failed sign-ins only, so 30
successful ones from one address lock nobody out, and the bench's run is far shorter than the
idle timeout (an hour). Every request carries what the README's TLS proxy would add
(`X-Forwarded-Proto: https`, `X-Forwarded-For`), so the app runs with its production settings
unchanged (HTTPS redirect on, `Secure` cookies, `TRUSTED_PROXY_COUNT=1`).

Imports locust, which monkey-patches the standard library for gevent: import it only in the
load generator's own process.
"""

from __future__ import annotations

import http.cookiejar
import itertools
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from locust import FastHttpUser, between, constant, task
from locust.exception import StopUser

CSRF_FORM = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
CSRF_HTMX = re.compile(r'"X-CSRFToken": "([A-Za-z0-9]+)"')
TICKET_LINK = re.compile(r'href="/tickets/(\d+)/"')
TICKET_URL = re.compile(r"/tickets/(\d+)/$")
WORK_DATE = re.compile(r'name="time-work_date"[^>]*value="(\d{4}-\d{2}-\d{2})"')
MONTH_URL = re.compile(r"/billing/(\d{4}-\d{2})/$")
# What a consultant types into the queue's filters (the form sends them with htmx).
QUEUE_FILTERS = (
    "assignee=me",
    "priority=urgent",
    "priority=high&assignee=none",
    "tier=0",
    "waiting=on",
    "q=printer",
)
ADMIN_LISTS = (
    "/admin/clients/client/",
    "/admin/tickets/ticket/",
    "/admin/billing/invoice/",
    "/admin/clients/charge/",
)
CAPACITY_ENDPOINT = "GET /queue/"


# --- What the parent hands over, and what the users share ---------------------------------------
@dataclass
class Config:
    host: str
    consultants: list[str]
    consultant_password: str
    manager: str
    manager_password: str
    pgids: dict[str, int]  # gunicorn, worker: process groups whose CPU is read per phase
    users: int = 30
    wait_min_s: float = 1.0
    wait_max_s: float = 3.0
    warmup_s: float = 5.0
    seconds: float = 60.0
    steps: list[int] = field(default_factory=lambda: [5, 10, 15, 20, 30, 40, 60, 80, 100])
    step_s: float = 20.0
    p95_limit_ms: float = 250.0
    seed: int = 2026


class Shared:
    """State the simulated users share within this process."""

    config: Config
    consultant_names: itertools.cycle[str]
    logins_ok = 0
    logins_failed = 0
    replies_accepted = 0  # replies the app accepted, recorded or not: each is an email to come


class Recorder:
    """Every request's time while recording is on, per endpoint (`METHOD name`)."""

    def __init__(self) -> None:
        self.active = False
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def start(self) -> None:
        self.samples, self.errors, self.examples = defaultdict(list), Counter(), {}
        self.active = True

    def on_request(
        self, request_type: str, name: str, response_time: float, exception: Any = None, **_: Any
    ) -> None:
        if not self.active:
            return
        key = f"{request_type} {name}"
        self.samples[key].append(response_time)
        if exception is not None:
            self.errors[key] += 1
            self.examples.setdefault(key, str(exception)[:300])


# --- The simulated people ----------------------------------------------------------------------
class BrowserBehindTls(http.cookiejar.DefaultCookiePolicy):
    """The browser's leg of the connection is HTTPS (to the proxy): it sends `Secure` cookies,
    which Python's default policy keeps for https:// URLs only."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return True


class StaffUser(FastHttpUser):
    """A signed-in member of staff, reached through a stand-in for the README's TLS proxy."""

    abstract = True
    default_headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}
    token = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client.cookiejar.set_policy(BrowserBehindTls())

    def origin(self) -> dict[str, str]:
        host = Shared.config.host.replace("http://", "https://", 1)
        return {"Origin": host, "Referer": f"{host}/"}

    def sign_in(self, username: str, password: str) -> None:
        try:
            page = self.get_page("/accounts/login/", "/accounts/login/")
            token = CSRF_FORM.search(page or "")
            with self.client.post(
                "/accounts/login/",
                data={
                    "username": username,
                    "password": password,
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                },
                headers=self.origin(),
                allow_redirects=False,
                catch_response=True,
                name="/accounts/login/",
            ) as response:
                if response.status_code != 302:
                    response.failure(f"sign-in of {username} answered {response.status_code}")
                    raise StopUser
        except StopUser:
            Shared.logins_failed += 1
            raise
        Shared.logins_ok += 1

    def get_page(self, path: str, name: str, *, marker: str = "", htmx: bool = False) -> str | None:
        """GET a page that must answer 200 (and hold `marker`); its text, or None on failure."""
        headers = {"HX-Request": "true", "HX-Target": "queue-table"} if htmx else {}
        with self.client.get(path, headers=headers, catch_response=True, name=name) as response:
            text = response.text or ""
            if response.status_code != 200:
                response.failure(f"answered {response.status_code}")
                return None
            if marker and marker not in text:
                response.failure(f"answered 200 without {marker!r}")
                return None
            if found := CSRF_HTMX.search(text) or CSRF_FORM.search(text):
                self.token = found.group(1)
            return text

    def post_form(self, path: str, name: str, data: dict[str, str]) -> str | None:
        """POST a form that must answer with a redirect; where it points, or None on failure."""
        with self.client.post(
            path,
            data={**data, "csrfmiddlewaretoken": self.token},
            headers=self.origin(),
            allow_redirects=False,
            catch_response=True,
            name=name,
        ) as response:
            location = response.headers.get("Location") or ""
            if response.status_code != 302 or not location:
                response.failure(f"answered {response.status_code}, not a redirect")
                return None
            return str(location)


class Consultant(StaffUser):
    """The consultant's day: the queue open (refreshed, filtered), tickets opened, the next one
    taken, replies and time logged on their own tickets."""

    weight = 5
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.sign_in(next(Shared.consultant_names), Shared.config.consultant_password)
        self.seen: list[int] = []  # tickets on the last queue page read
        self.mine: dict[int, str] = {}  # my tickets a reply can go to: id -> work date offered
        self.queue("/queue/", "/queue/")

    def queue(self, path: str, name: str, *, htmx: bool = False) -> None:
        text = self.get_page(path, name, marker='id="queue-rows"', htmx=htmx)
        if text and (ids := [int(i) for i in TICKET_LINK.findall(text)]):
            self.seen = ids

    def ticket(self, pk: int) -> None:
        text = self.get_page(f"/tickets/{pk}/", "/tickets/[id]/")
        if text is None:
            return
        date = WORK_DATE.search(text)
        # Replies need a contact, and both forms an open ticket.
        if date and 'name="reply-body"' in text and "— no contact —" not in text:
            self.mine.setdefault(pk, date.group(1))
        else:
            self.mine.pop(pk, None)

    @task(5)
    def queue_refresh(self) -> None:
        self.queue("/queue/", "/queue/ (refresh)", htmx=True)

    @task(2)
    def queue_page(self) -> None:
        self.queue("/queue/", "/queue/")

    @task(3)
    def queue_filtered(self) -> None:
        self.queue(f"/queue/?{random.choice(QUEUE_FILTERS)}", "/queue/?filters", htmx=True)

    @task(4)
    def ticket_page(self) -> None:
        if self.seen:
            self.ticket(random.choice(self.seen))

    @task(1)
    def take_next(self) -> None:
        location = self.post_form("/queue/take-next/", "/queue/take-next/", {})
        if location and (taken := TICKET_URL.search(location)):
            self.ticket(int(taken.group(1)))  # where the browser lands
        elif location:
            self.queue("/queue/", "/queue/")  # nobody waiting: back to the queue

    @task(1)
    def reply(self) -> None:
        if not self.mine:
            self.take_next()
            return
        pk = random.choice(list(self.mine))
        body = "Thanks for the details; I am on it and will update you within the hour."
        if self.post_form(f"/tickets/{pk}/reply/", "/tickets/[id]/reply/", {"reply-body": body}):
            Shared.replies_accepted += 1
            self.ticket(pk)

    @task(1)
    def log_time(self) -> None:
        if not self.mine:
            self.take_next()
            return
        pk, day = random.choice(list(self.mine.items()))
        data = {"time-minutes": "15", "time-work_date": day, "time-note": "Remote session"}
        if self.post_form(f"/tickets/{pk}/time/", "/tickets/[id]/time/", data):
            self.ticket(pk)


class Manager(StaffUser):
    """The manager's rounds: the insights pages, billing, and the admin's lists."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.sign_in(Shared.config.manager, Shared.config.manager_password)
        # /billing/ sends the manager on to the last month that has ended.
        with self.client.get(
            "/billing/", allow_redirects=False, catch_response=True, name="/billing/"
        ) as response:
            month = MONTH_URL.search(response.headers.get("Location") or "")
            if response.status_code != 302 or not month:
                response.failure(f"answered {response.status_code}, not a month")
            self.month = month.group(1) if month else ""

    @task(3)
    def insights(self) -> None:
        self.get_page("/insights/", "/insights/")

    @task(1)
    def renewals(self) -> None:
        self.get_page("/insights/renewals/", "/insights/renewals/")

    @task(1)
    def drops(self) -> None:
        self.get_page("/insights/drops/", "/insights/drops/")

    @task(2)
    def billing_month(self) -> None:
        if self.month:
            self.get_page(f"/billing/{self.month}/", "/billing/[month]/")

    @task(1)
    def invoices(self) -> None:
        self.get_page("/billing/invoices/", "/billing/invoices/")

    @task(4)
    def admin_list(self) -> None:
        path = random.choice(ADMIN_LISTS)
        self.get_page(path, path, marker='id="changelist"')


class QueueReader(StaffUser):
    """The capacity phase: a consultant reloading the queue page with no pause."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.sign_in(next(Shared.consultant_names), Shared.config.consultant_password)

    @task
    def queue_page(self) -> None:
        self.get_page("/queue/", "/queue/", marker='id="queue-rows"')
