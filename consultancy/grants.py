"""Granting the roles permissions from a data migration (shared by the migrations that do it)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions

# {group name: {app label: {model: "action action ..."}}}
Grants = dict[str, dict[str, dict[str, str]]]


def create_all_permissions(apps: Any) -> None:
    """Create every model's permissions now, given a RunPython migration's historical `apps`.

    Permissions are normally created after all migrations ran (post_migrate); a migration that
    hands them out on a fresh database must make them first. Never call it with the live app
    registry: it flips each AppConfig's models_module to do its work.
    """
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def add_group_permissions(apps: Any, grants: Grants) -> None:
    """Add permissions to groups (creating the groups if need be); the permissions must exist."""
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for group_name, spec in grants.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        for app_label, models in spec.items():
            for model, actions in models.items():
                for action in actions.split():
                    group.permissions.add(
                        permission_model.objects.get(
                            content_type__app_label=app_label, codename=f"{action}_{model}"
                        )
                    )


def grant_roles(grants: Grants) -> Any:
    """The RunPython operation of a migration that adds `grants` to the roles (irreversible
    in effect: unapplying leaves the permissions, as a later grant may rely on them)."""
    from django.db import migrations

    def grant(apps: Any, schema_editor: Any) -> None:
        create_all_permissions(apps)
        add_group_permissions(apps, grants)

    return migrations.RunPython(grant, migrations.RunPython.noop)
