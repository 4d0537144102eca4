"""The admin's filter for fields with choices, for every ModelAdmin of the project.

Django's own passes whatever the query string says to the database: `?status__exact=%00`
reaches PostgreSQL, which refuses a NUL in a string literal, and the list answered 500.
This one takes only the field's choices; anything else is the admin's "wrong filter" answer
(a redirect to the list with ?e=1), as for a bad value of any other filter.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.filters import ChoicesFieldListFilter, FieldListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import QuerySet
from django.http import HttpRequest


class KnownChoicesFieldListFilter(ChoicesFieldListFilter):
    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any] | None:
        known = {str(value) for value, _ in self.field.flatchoices}
        # The values the query string gave for the field: a list, one per repetition.
        asked: Any = self.used_parameters.get(self.lookup_kwarg) or []
        if any(str(value) not in known for value in asked):
            raise IncorrectLookupParameters(f"{self.lookup_kwarg} is not one of the choices")
        return super().queryset(request, queryset)


# Ahead of Django's registration for the same fields, for every admin (third-party ones too).
FieldListFilter.register(
    lambda field: bool(field.choices), KnownChoicesFieldListFilter, take_priority=True
)
