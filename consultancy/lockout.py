"""Login protection: when a sign-in is refused for too many failures, and the page that says so.

django-axes counts the failures (AccessAttempt rows, one per username, address and browser) and
refuses a locked-out attempt in AxesStandaloneBackend, before any password is checked. Its own
limit is per username *and* address (settings.AXES_LOCKOUT_PARAMETERS): five wrong guesses lock
out the guesser without letting a stranger lock a colleague out from elsewhere. This handler
adds the two wider limits axes cannot express beside it, each counted over the same cool-off:
the username's failures from every address, and the address's failures for every username.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers


@dataclass(frozen=True)
class FailureCount:
    failures: int
    limit: int
    last_failure_at: dt.datetime | None

    @property
    def locked(self) -> bool:
        return self.failures >= self.limit


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, locking also when a wider limit is reached."""

    def failure_counts(
        self, request: Any, credentials: dict[str, Any] | None
    ) -> list[FailureCount]:
        """The failures within the cool-off for the username from this address, for the
        username from anywhere, and from this address for anyone: each with its limit."""
        username = get_client_username(request, credentials)
        address = request.axes_ip_address
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        groups = [
            (recent.filter(username=username, ip_address=address), settings.AXES_FAILURE_LIMIT)
        ]
        if username is not None:
            groups.append((recent.filter(username=username), settings.LOGIN_USERNAME_FAILURE_LIMIT))
        if address is not None:
            groups.append((recent.filter(ip_address=address), settings.LOGIN_ADDRESS_FAILURE_LIMIT))
        counts = []
        for attempts, limit in groups:
            totals = attempts.aggregate(
                failures=Sum("failures_since_start"), last=Max("attempt_time")
            )
            counts.append(FailureCount(totals["failures"] or 0, limit, totals["last"]))
        return counts

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        # axes locks when this number reaches AXES_FAILURE_LIMIT: the pair's own failures, or
        # that limit itself when a wider one is reached.
        pair, *wider = self.failure_counts(request, credentials)
        if any(count.locked for count in wider):
            return max(pair.failures, pair.limit)
        return pair.failures

    def lock_ends_at(self, request: Any, credentials: dict[str, Any] | None) -> dt.datetime:
        """When this sign-in is let through again, at the latest: the last failure counted by
        each reached limit, plus the cool-off (attempts while locked out are not counted)."""
        cool_off = get_cool_off(request)
        ends = [
            count.last_failure_at + cool_off
            for count in self.failure_counts(request, credentials)
            if count.locked and count.last_failure_at is not None
        ]
        return max(ends, default=request.axes_attempt_time + cool_off)


def lockout_response(request: HttpRequest, *_ignored: object) -> HttpResponse:
    """The page both logins answer while an attempt is locked out (AXES_LOCKOUT_CALLABLE).

    axes calls this with (request, response, credentials), or (request, credentials) on its
    async path: what is needed comes from the request, which axes has annotated either way.
    """
    credentials = getattr(request, "axes_credentials", None)
    ends_at = LoginLockoutHandler().lock_ends_at(request, credentials)
    wait = max(ends_at - timezone.now(), dt.timedelta(0))
    response = render(
        request,
        "registration/locked_out.html",
        {"ends_at": ends_at, "wait_minutes": max(1, math.ceil(wait.total_seconds() / 60))},
        status=429,
    )
    response["Retry-After"] = str(math.ceil(wait.total_seconds()))
    add_never_cache_headers(response)
    return response


# auth.User.username's max_length: no longer name can sign in, and the column axes records the
# attempt in holds 255 characters (a 400-character name answered 500 on PostgreSQL).
USERNAME_LENGTH = 150


def client_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the username a sign-in tried, as axes' own reader finds it, cut to
    the longest a user can have and without NUL (which PostgreSQL's text refuses)."""
    value = credentials.get("username") if credentials else request.POST.get("username")
    if value is None:
        return None
    return str(value).replace("\x00", "")[:USERNAME_LENGTH]
