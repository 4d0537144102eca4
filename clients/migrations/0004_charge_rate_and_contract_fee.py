"""Charges record the rate they were priced at; the ledger gains contract fees.

Existing paid-priority charges were priced at their amount, so that is their rate. Labour and
overage charged before this change keep no rate: their amount and hours were rounded, and
dividing them back would invent a rate nobody set.
"""

from decimal import Decimal

import django.core.validators
from django.conf import settings
from django.db import migrations, models


def backfill_priority_rates(apps, schema_editor):
    Charge = apps.get_model("clients", "Charge")
    Charge.objects.filter(kind="paid_priority", rate__isnull=True).update(rate=models.F("amount"))


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0003_client_events"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="charge",
            name="rate",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The rate this charge was priced at: per hour for labour and overage, the monthly price for a contract fee, the surcharge for paid priority.",
                max_digits=10,
                null=True,
                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
            ),
        ),
        migrations.AlterField(
            model_name="charge",
            name="kind",
            field=models.CharField(
                choices=[
                    ("contract_fee", "Contract fee"),
                    ("overage", "Contract overage"),
                    ("labour", "Labour"),
                    ("paid_priority", "Paid priority"),
                    ("other", "Other"),
                ],
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="charge",
            constraint=models.CheckConstraint(
                condition=models.Q(("rate__isnull", True), ("rate__gte", 0), _connector="OR"),
                name="charge_rate_not_negative",
            ),
        ),
        migrations.RunPython(backfill_priority_rates, migrations.RunPython.noop),
    ]
