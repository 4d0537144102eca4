from __future__ import annotations

from django import template
from django.utils.html import format_html

from insights.figures import Cell, Link

register = template.Library()


@register.simple_tag
def cell(value: Cell) -> str:
    """A table cell: a Link as an anchor, anything else as its text (escaped)."""
    if isinstance(value, Link):
        return format_html('<a href="{}">{}</a>', value.url, value.text)
    return format_html("{}", "" if value is None else value)
