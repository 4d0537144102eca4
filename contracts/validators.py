"""Validators that fields name. Migrations record a field's validators by import path, so these
keep their names and places (and import nothing of the app's)."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"{value!r} is not a known time zone (e.g. America/New_York)."
        ) from None
