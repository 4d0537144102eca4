"""clients.people: a colleague is named the same way everywhere."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.template import Context, Template

from clients.people import name_from, staff_name


@pytest.mark.parametrize(
    ("first", "last", "username", "shown"),
    [
        ("Casey", "Nguyen", "casey", "Casey Nguyen"),
        ("Casey", "", "casey", "Casey"),
        ("", "", "casey", "casey"),
        (None, None, "casey", "casey"),
    ],
)
def test_a_colleague_is_named_by_full_name_else_by_login(
    first: str | None, last: str | None, username: str, shown: str
) -> None:
    assert name_from(first, last, username) == shown
    user = User(first_name=first or "", last_name=last or "", username=username)
    assert staff_name(user) == shown
    assert Template("{% load people %}{{ u|staff_name }}").render(Context({"u": user})) == shown


def test_nobody_is_named_as_nothing() -> None:
    assert Template("{% load people %}[{{ u|staff_name }}]").render(Context({"u": None})) == "[]"
