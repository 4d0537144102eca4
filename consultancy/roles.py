"""The two staff roles: the groups, what each may do, and how code tells them apart.

Code asks for permissions (MANAGE_CONTRACTS, WORK_TICKETS, defined by the apps that own them),
never for a group's name, so an app below this package can check a role without importing it.
The groups get their permissions from the data migrations in consultancy/migrations;
ROLE_PERMISSIONS is what they hold after the latest one (a test holds the two together).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.staff import MANAGE_CONTRACTS
from tickets.staff import WORK_TICKETS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

MANAGERS = "Managers"
CONSULTANTS = "Consultants"

ALL = "add change delete view"
# {group: {app label: {model: "action action ..."}}}. Managers run the business; consultants
# work tickets, keep client records current and read (never change) plans, contracts, offers.
ROLE_PERMISSIONS: dict[str, dict[str, dict[str, str]]] = {
    MANAGERS: {
        "auth": {"user": "view"},
        # export and erase: the client's data rights (README), a manager's decision.
        "clients": {
            "client": f"{ALL} export erase",
            "contact": ALL,
            "charge": ALL,
            "clientevent": "view",
            # The outbox: every email sent or waiting; "change" is sending one again.
            "outboundemail": "change view",
        },
        "billing": {
            "ratecard": "change view",
            "billingrun": "view",
            "contractperiod": "view",
            "invoice": "add view",
            "invoiceline": "view",
        },
        "contracts": {
            "businesscalendar": ALL,
            "holiday": ALL,
            "contractplan": ALL,
            "contractterms": "add view",
            "servicelevel": ALL,
            "servicecontract": "add change view",
            "renewalsettings": "change view",
        },
        "offers": {
            "conversionoffer": "change view",
            "campaignrun": "view",
            "campaignsettings": "change view",
        },
        "tickets": {"ticket": "add change view", "ticketevent": "view", "timeentry": "view"},
        "insights": {"insightssettings": "change view"},
        # Unlocking a locked-out sign-in is deleting its failed attempts (django-axes).
        "axes": {"accessattempt": "delete view", "accesslog": "view"},
        "django_celery_beat": {
            "periodictask": ALL,
            "crontabschedule": ALL,
            "intervalschedule": ALL,
            "clockedschedule": ALL,
            "solarschedule": ALL,
        },
    },
    CONSULTANTS: {
        "clients": {
            "client": "add change view",
            "contact": "add change view",
            "charge": "view",
            "clientevent": "view",
        },
        "contracts": {
            "businesscalendar": "view",
            "holiday": "view",
            "contractplan": "view",
            "contractterms": "view",
            "servicelevel": "view",
            "servicecontract": "view",
        },
        "offers": {"conversionoffer": "view"},
        "tickets": {"ticket": "add change view", "ticketevent": "view", "timeentry": "view"},
    },
}


def role_permission_names(group: str) -> set[str]:
    """The role's permissions as "app_label.codename" strings (as User.has_perm takes them)."""
    return {
        f"{app_label}.{action}_{model}"
        for app_label, models in ROLE_PERMISSIONS[group].items()
        for model, actions in models.items()
        for action in actions.split()
    }


def is_manager(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.has_perm(MANAGE_CONTRACTS))


def is_consultant(user: User | AnonymousUser) -> bool:
    """Return whether the user may work tickets: consultants, and managers, who can do all they do."""
    return bool(user.is_authenticated and user.has_perm(WORK_TICKETS))
