"""`{% load money %}`: amounts and percentages in pages and emails, through clients.money."""

from __future__ import annotations

from decimal import Decimal

from django import template

from clients import money as rules

register = template.Library()


@register.filter
def money(amount: Decimal | int | None) -> str:
    """{{ offer.monthly_price|money }} -> "$1,234.50"."""
    if amount is None or amount == "":
        return ""
    return rules.money(amount)


@register.filter
def percent(value: Decimal | int | None) -> str:
    """{{ offer.discount_percent|percent }} -> "8.5%"."""
    if value is None or value == "":
        return ""
    return rules.percent(value)


@register.filter
def hours(value: Decimal | int | None) -> str:
    """{{ plan.included_hours|hours }} -> "8.5"."""
    if value is None or value == "":
        return ""
    return rules.hours(value)
