from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest

from consultancy.roles import is_consultant, is_manager


def roles(request: HttpRequest) -> dict[str, object]:
    # Callables, which templates call on first use: a page that never asks costs no query.
    return {
        "is_manager": partial(is_manager, request.user),
        "is_consultant": partial(is_consultant, request.user),
        "practice_name": settings.PRACTICE_NAME,
    }


def development_mode(request: HttpRequest) -> dict[str, object]:
    # base.html and the admin's base_site.html show a banner on every page while it is on.
    return {"development_mode": settings.DEVELOPMENT}
