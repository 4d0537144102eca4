"""The offers app gets its own tables, permissions and task names (step 4 of 4; see 0001).

- The tables are renamed from contracts_* to offers_*: rows, indexes, constraints and the
  foreign keys pointing at them come along (PostgreSQL keys follow the table; SQLite 3.26+
  rewrites the references).
- The content types move to the offers app, so the permissions the roles hold on offers, runs
  and campaign rules, and the admin's log entries, carry over instead of being made anew.
- The periodic tasks that ran the campaign, reminders, expiry and the delivery sweep name the
  tasks where they now live.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

MODELS = ["conversionoffer", "campaignrun", "campaignsettings"]
TASKS = [
    "campaign_run_task",
    "offers_remind_task",
    "offers_expire_task",
    "offers_sweep_task",
]


def _move_content_types(apps, source, target):
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    for model in MODELS:
        old = content_type.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = content_type.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        # Both exist (permissions were made for the new app already): keep the new ones and
        # give their holders whatever the old ones granted.
        for old_permission in permission.objects.filter(content_type=old):
            kept = permission.objects.filter(
                content_type=new, codename=old_permission.codename
            ).first()
            if kept is None:
                old_permission.content_type = new
                old_permission.save(update_fields=["content_type"])
                continue
            for group in old_permission.group_set.all():
                group.permissions.add(kept)
            for user in old_permission.user_set.all():
                user.user_permissions.add(kept)
            old_permission.delete()
        apps.get_model("admin", "LogEntry").objects.filter(content_type=old).update(
            content_type=new
        )
        old.delete()


def _rename_tasks(apps, source, target):
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    renamed = 0
    for task in TASKS:
        renamed += periodic_task.objects.filter(task=f"{source}.tasks.{task}").update(
            task=f"{target}.tasks.{task}"
        )
    if renamed:
        # A running beat reloads its schedule when this marker changes.
        apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


def forwards(apps, schema_editor):
    _move_content_types(apps, "contracts", "offers")
    _rename_tasks(apps, "contracts", "offers")


def backwards(apps, schema_editor):
    _move_content_types(apps, "offers", "contracts")
    _rename_tasks(apps, "offers", "contracts")


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("contracts", "0006_offers_move_to_their_app"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("offers", "0002_offer_contract"),
    ]

    operations = [
        migrations.AlterField(
            model_name="conversionoffer",
            name="contract",
            field=models.OneToOneField(
                blank=True,
                help_text="The contract the client started by accepting this offer.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="offer",
                to="contracts.servicecontract",
            ),
        ),
        migrations.AlterModelTable(name="campaignsettings", table=None),
        migrations.AlterModelTable(name="campaignrun", table=None),
        migrations.AlterModelTable(name="conversionoffer", table=None),
        migrations.RunPython(forwards, backwards),
    ]
