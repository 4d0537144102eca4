"""`{% load people %}`: staff named the same way everywhere (clients.people)."""

from __future__ import annotations

from django import template

from clients.people import Named
from clients.people import staff_name as name

register = template.Library()


@register.filter
def staff_name(user: Named | None) -> str:
    """{{ event.actor|staff_name }} -> "Casey Nguyen" (or the login); empty for nobody."""
    return name(user) if user is not None else ""
