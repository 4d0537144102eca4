"""`{% load figures %}`: a cell of a clients.figures table, as the page shows it."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from clients.figures import Cell, cell_html

register = template.Library()


@register.simple_tag
def cell(value: Cell) -> SafeString:
    """A figure as a table shows it: a Link as an anchor, anything else as its text."""
    return mark_safe(cell_html(value))  # noqa: S308 -- cell_html escapes every value
