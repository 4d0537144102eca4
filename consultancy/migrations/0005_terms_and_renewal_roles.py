"""Managers keep the plans' terms (each change a new version) and the renewal notice setting;
consultants may read the terms."""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _create_all_permissions(apps):
    """Create every historical model's permissions now: they are normally made after all
    migrations ran (post_migrate), and a fresh database needs them to hand them out here."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def _grant(apps, grants):
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


def grant(apps, schema_editor):
    _create_all_permissions(apps)
    _grant(apps, GRANTS)


GRANTS = {
    "Managers": {"contracts": {"contractterms": "add view", "renewalsettings": "change view"}},
    "Consultants": {"contracts": {"contractterms": "view"}},
}


class Migration(migrations.Migration):
    dependencies = [
        ("consultancy", "0004_billing_roles"),
        ("contracts", "0008_renewal_notices"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
