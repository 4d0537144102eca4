"""The one row of settings the manager's reports read. The reports themselves write nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class InsightsSettings(models.Model):
    """The manager's targets, edited in the admin."""

    recurring_share_target_percent = models.DecimalField(
        "recurring revenue target, % of revenue",
        max_digits=5,
        decimal_places=2,
        default=Decimal("60.00"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="The share of each month's billing that should come from contract fees: the "
        "predictability chart draws it as a line.",
    )

    renewals_digest_week = models.DateField(
        null=True,
        blank=True,
        editable=False,
        help_text="The Monday of the week whose renewals email went out last (a second run in "
        "the same week sends nothing).",
    )

    class Meta:
        verbose_name = verbose_name_plural = "insights settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="insights_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Insights settings"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> InsightsSettings:
        """The settings as they stand, for a report: the defaults until a manager saves them
        (reading never writes the row)."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)

    @classmethod
    def load(cls) -> InsightsSettings:
        row, _ = cls.objects.get_or_create(pk=1)
        return row
