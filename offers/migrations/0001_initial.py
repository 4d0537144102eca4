"""The conversion engine moves out of `contracts` into its own app, keeping every row.

Step 1 of 4 (then offers 0002, contracts 0006 and offers 0003): the offers app takes over the
campaign settings, campaign runs and offers in Django's state only, on the tables they already
have; nothing in the database changes here. Like every migration it imports no app code.
"""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("clients", "0003_client_events"),
        ("contracts", "0005_client_history_backfill"),
        # The roles' grants on these models (made while they were in contracts) exist before
        # the models move, so that offers 0003 carries them over with the content types.
        ("consultancy", "0003_client_history_roles"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CampaignRun",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "trigger",
                            models.CharField(
                                choices=[("schedule", "Schedule"), ("manual", "Manual")],
                                max_length=16,
                            ),
                        ),
                        ("eligible_clients", models.PositiveIntegerField(default=0)),
                        ("offers_created", models.PositiveIntegerField(default=0)),
                        (
                            "triggered_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-started_at"],
                        "db_table": "contracts_campaignrun",
                    },
                ),
                migrations.CreateModel(
                    name="CampaignSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "min_trailing_spend",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("500.00"),
                                help_text="A client qualifies by spending at least this much…",
                                max_digits=10,
                                validators=[django.core.validators.MinValueValidator(Decimal("0"))],
                                verbose_name="minimum spend, last 12 months",
                            ),
                        ),
                        (
                            "min_trailing_tickets",
                            models.PositiveIntegerField(
                                default=4,
                                help_text="…or by raising at least this many tickets.",
                                verbose_name="minimum tickets, last 12 months",
                            ),
                        ),
                        (
                            "cooldown_days",
                            models.PositiveIntegerField(
                                default=90,
                                help_text="Days after an offer (answered or not) before the client is offered again.",
                                validators=[django.core.validators.MaxValueValidator(3650)],
                            ),
                        ),
                        (
                            "offer_lifetime_days",
                            models.PositiveIntegerField(
                                default=21,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(365),
                                ],
                            ),
                        ),
                        (
                            "reminder_days_before_expiry",
                            models.PositiveIntegerField(
                                default=3, validators=[django.core.validators.MaxValueValidator(60)]
                            ),
                        ),
                        (
                            "base_discount_percent",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("5.00"),
                                max_digits=5,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0")),
                                    django.core.validators.MaxValueValidator(Decimal("100")),
                                ],
                            ),
                        ),
                        (
                            "tenure_bonus_percent_per_year",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("1.00"),
                                help_text="Added for each full year the client has been a customer.",
                                max_digits=5,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0")),
                                    django.core.validators.MaxValueValidator(Decimal("100")),
                                ],
                            ),
                        ),
                        (
                            "max_discount_percent",
                            models.DecimalField(
                                decimal_places=2,
                                default=Decimal("12.00"),
                                max_digits=5,
                                validators=[
                                    django.core.validators.MinValueValidator(Decimal("0")),
                                    django.core.validators.MaxValueValidator(Decimal("100")),
                                ],
                            ),
                        ),
                        (
                            "max_offers_per_run",
                            models.PositiveIntegerField(
                                default=10000,
                                help_text="The best-ranked first.",
                                validators=[django.core.validators.MinValueValidator(1)],
                            ),
                        ),
                    ],
                    options={
                        "db_table": "contracts_campaignsettings",
                        "verbose_name": "campaign settings",
                        "verbose_name_plural": "campaign settings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("pk", 1)), name="campaign_settings_single_row"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ConversionOffer",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "email",
                            models.EmailField(
                                help_text="Where the offer was sent (the primary contact then).",
                                max_length=254,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending (to be sent)"),
                                    ("sending", "Sending"),
                                    ("sent", "Sent"),
                                    ("accepted", "Accepted"),
                                    ("declined", "Declined"),
                                    ("expired", "Expired"),
                                    ("withdrawn", "Withdrawn"),
                                    ("undeliverable", "Undeliverable (the mail server refused it)"),
                                ],
                                default="pending",
                                max_length=16,
                            ),
                        ),
                        ("list_price", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("discount_percent", models.DecimalField(decimal_places=2, max_digits=5)),
                        (
                            "monthly_price",
                            models.DecimalField(
                                decimal_places=2,
                                max_digits=10,
                                verbose_name="monthly price after discount",
                            ),
                        ),
                        ("trailing_labour", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("trailing_priority", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("trailing_spend", models.DecimalField(decimal_places=2, max_digits=12)),
                        ("trailing_hours", models.DecimalField(decimal_places=2, max_digits=8)),
                        ("trailing_tickets", models.PositiveIntegerField()),
                        ("priority_purchases", models.PositiveIntegerField()),
                        (
                            "contract_cost",
                            models.DecimalField(
                                decimal_places=2,
                                max_digits=12,
                                verbose_name="what the contract would have cost in those 12 months",
                            ),
                        ),
                        ("nonce", models.CharField(editable=False, max_length=32)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("sent_at", models.DateTimeField(blank=True, null=True)),
                        ("reminded_at", models.DateTimeField(blank=True, null=True)),
                        ("expires_at", models.DateTimeField()),
                        ("responded_at", models.DateTimeField(blank=True, null=True)),
                        ("accepted_ip", models.GenericIPAddressField(blank=True, null=True)),
                        ("accepted_user_agent", models.CharField(blank=True, max_length=500)),
                        ("send_attempts", models.PositiveSmallIntegerField(default=0)),
                        (
                            "claimed_at",
                            models.DateTimeField(
                                blank=True,
                                help_text="When a send task took this offer (status sending).",
                                null=True,
                            ),
                        ),
                        (
                            "campaign_run",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="offers",
                                to="offers.campaignrun",
                            ),
                        ),
                        (
                            "client",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="offers",
                                to="clients.client",
                            ),
                        ),
                        (
                            "contact",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="clients.contact",
                            ),
                        ),
                        (
                            "plan",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="offers",
                                to="contracts.contractplan",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "contracts_conversionoffer",
                    },
                ),
                migrations.AddIndex(
                    model_name="conversionoffer",
                    index=models.Index(
                        fields=["status", "expires_at"], name="offer_status_expiry_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="conversionoffer",
                    index=models.Index(
                        fields=["client", "created_at"], name="offer_client_created_idx"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="conversionoffer",
                    constraint=models.UniqueConstraint(
                        condition=models.Q(("status__in", ["pending", "sending", "sent"])),
                        fields=("client",),
                        name="one_open_offer_per_client",
                        violation_error_message="This client already has an open offer.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="conversionoffer",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("discount_percent__gte", 0), ("discount_percent__lte", 100)
                        ),
                        name="offer_discount_is_a_percentage",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="conversionoffer",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("monthly_price__gte", 0)),
                        name="offer_price_not_negative",
                    ),
                ),
            ],
        ),
    ]
