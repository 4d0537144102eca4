"""The two roles exist after migrating, with the permissions each needs and no more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext

from consultancy.roles import (
    CONSULTANTS,
    MANAGERS,
    is_consultant,
    is_manager,
    role_permission_names,
)
from tests.conftest import _ensure_roles

pytestmark = pytest.mark.django_db


def _codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_both_roles_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {MANAGERS, CONSULTANTS}


def test_managers_run_contracts_and_plans():
    perms = _codenames(MANAGERS)

    assert {
        "contracts.add_servicecontract",
        "contracts.change_servicecontract",
        "contracts.view_servicecontract",
        "contracts.add_contractplan",
        "contracts.change_contractplan",
        "contracts.change_businesscalendar",
        "clients.change_client",
        "clients.add_charge",
        "django_celery_beat.change_periodictask",
    } <= perms


def test_nobody_deletes_a_contract_or_edits_the_work_log():
    # Contracts end through the services and keep their history; time entries and ticket
    # events are written by the ticket services only.
    for group in (MANAGERS, CONSULTANTS):
        perms = _codenames(group)
        assert "contracts.delete_servicecontract" not in perms
        assert (
            not {
                "tickets.change_timeentry",
                "tickets.add_timeentry",
                "tickets.change_ticketevent",
            }
            & perms
        )


def test_consultants_work_tickets_and_keep_client_records():
    perms = _codenames(CONSULTANTS)

    assert {
        "tickets.add_ticket",
        "tickets.change_ticket",
        "clients.add_client",
        "clients.change_client",
        "clients.add_contact",
        "contracts.view_servicecontract",
        "contracts.view_contractplan",
    } <= perms


def test_consultants_only_read_contracts_plans_and_charges():
    perms = _codenames(CONSULTANTS)

    assert (
        not {
            "contracts.add_servicecontract",
            "contracts.change_servicecontract",
            "contracts.add_contractplan",
            "contracts.change_contractplan",
            "contracts.change_servicelevel",
            "contracts.change_businesscalendar",
            "clients.add_charge",
            "clients.change_charge",
            "clients.delete_client",
        }
        & perms
    )
    assert not any(p.startswith("django_celery_beat.") for p in perms)


def test_personas_hold_the_permissions_of_their_role(manager, consultant, roleless):
    assert manager.has_perm("contracts.add_servicecontract")
    assert not consultant.has_perm("contracts.add_servicecontract")
    assert consultant.has_perm("tickets.add_ticket")
    assert not roleless.has_perm("tickets.add_ticket")


def test_roles_map_users_onto_manager_and_consultant(manager, consultant, roleless):
    # Managers can do all consultants do, so they count as consultants too.
    assert is_manager(manager)
    assert is_consultant(manager)
    assert not is_manager(consultant)
    assert is_consultant(consultant)
    assert not is_manager(roleless)
    assert not is_consultant(roleless)
    assert not is_manager(AnonymousUser())
    assert not is_consultant(AnonymousUser())


def test_a_superuser_counts_as_a_manager(django_user_model):
    boss = django_user_model.objects.create_superuser("root", "root@practice.example", "pw")

    assert is_manager(boss)
    assert is_consultant(boss)


def test_asking_for_roles_again_costs_no_more_queries(consultant):
    # Templates and views ask is_manager/is_consultant many times per page: after the first
    # answer the user object must remember, or every menu item costs a query.
    with CaptureQueriesContext(connection) as first:
        is_manager(consultant)
        is_consultant(consultant)
    with CaptureQueriesContext(connection) as again:
        for _ in range(5):
            is_manager(consultant)
            is_consultant(consultant)

    assert len(first) >= 1  # it did ask the database once
    assert len(again) == 0


def test_managers_reach_the_admin_and_consultants_too(manager_client, consultant_client):
    assert manager_client.get("/admin/").status_code == 200
    assert consultant_client.get("/admin/").status_code == 200


def test_a_user_without_a_role_is_kept_out_of_the_admin(roleless):
    http = HttpClient()
    http.force_login(roleless)

    response = http.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_both_roles_read_the_client_history_and_nobody_writes_it():
    # ClientEvent rows are written by the services only (docs/architecture.md).
    for group in (MANAGERS, CONSULTANTS):
        perms = {p for p in _codenames(group) if p.endswith("_clientevent")}
        assert perms == {"clients.view_clientevent"}, group


def test_the_test_suite_rebuilds_the_roles_from_role_permissions():
    # transaction=True tests flush the groups; tests/conftest.py rebuilds them from
    # consultancy.roles.ROLE_PERMISSIONS, which the next test holds equal to the migrations.
    Group.objects.filter(name__in=[MANAGERS, CONSULTANTS]).delete()

    _ensure_roles()

    for name in (MANAGERS, CONSULTANTS):
        assert _codenames(name) == role_permission_names(name)


@pytest.mark.django_db(transaction=True)
def test_the_role_migrations_grant_exactly_role_permissions():
    # Run the role migrations (and the move of offers after them) again from nothing: what they
    # grant on a fresh database is what ROLE_PERMISSIONS says the roles hold.
    executor = MigrationExecutor(connection)
    executor.migrate([("consultancy", None)])
    assert not Group.objects.filter(name__in=[MANAGERS, CONSULTANTS]).exists()
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    for name in (MANAGERS, CONSULTANTS):
        assert _codenames(name) == role_permission_names(name), name
