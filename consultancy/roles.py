"""The two staff roles and how a request's user maps onto them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

MANAGERS = "Managers"
CONSULTANTS = "Consultants"


def _group_names(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    # Cached on the user object: templates and views ask more than once per request.
    cached = getattr(user, "_role_names", None)
    if cached is None:
        names = (
            frozenset(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
            if user.is_authenticated
            else frozenset()
        )
        user._role_names = names  # type: ignore[union-attr]
        return names
    return cached  # type: ignore[no-any-return]


def is_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or MANAGERS in _group_names(user)))  # type: ignore[union-attr]


def is_consultant(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether the user may work tickets: consultants, and managers, who can do all they do."""
    return bool(
        user.is_authenticated
        and (is_manager(user) or CONSULTANTS in _group_names(user))
    )
