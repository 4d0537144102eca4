"""Who holds a permission: the one way the apps list the staff a permission makes (managers to
email, consultants to assign), so they all ask the same authentication backend."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

# Permissions come from the groups, through Django's ModelBackend. It is named because it is not
# the only backend: the login protection's (django-axes) stands before it and grants nothing,
# and with several backends User.objects.with_perm must be told which one to ask.
PERMISSIONS_BACKEND = "django.contrib.auth.backends.ModelBackend"
# Dropping and reinstating a client: what the client admin's drop action asks for.
DROP_CLIENTS = "clients.delete_client"


def users_with_perm(permission: str, *, include_superusers: bool) -> Any:
    """The users (a QuerySet) that hold `permission` through their groups or their own grants."""
    return get_user_model().objects.with_perm(
        permission, include_superusers=include_superusers, backend=PERMISSIONS_BACKEND
    )
