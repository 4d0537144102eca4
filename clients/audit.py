"""The audit trail: who changed a plan, a target, a contract, the rules, an offer or a user, when,
and what (django-simple-history keeps a history table per audited model).

Who: a change made in a request is the signed-in user's (HistoryRequestMiddleware); a service
that is told who acts (`by`) says so itself (`record_change`); nobody (None) is a scheduled task
or the client. What is recorded: every save() of an audited row, by a person or a service. Not
recorded one by one: the machine's high-volume writes by bulk INSERT or UPDATE (a campaign's
offers, their delivery, reminders and expiry); `history_baseline` records where those left a row
before a person changes it, so that the person's entry shows only what the person changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

if TYPE_CHECKING:
    from clients.services import Actor

# Why an entry nobody made is there (history_baseline).
AS_IT_STOOD = "As it stood (set earlier, or by the system)"


def record_change(
    instance: models.Model, *, by: Actor = None, reason: str = "", clients_own: bool = False
) -> None:
    """Say who makes the next save() of `instance` and why, for its history entry.

    `by`: the staff member the service was told acts for; without one, the request's signed-in
    user (the middleware), or nobody in a task. `clients_own`: the client acts (answering an
    offer), so nobody, even in a browser where a staff member is signed in.
    """
    if isinstance(by, User) or clients_own:
        instance._history_user = by if isinstance(by, User) else None  # type: ignore[attr-defined]
    if reason:
        instance._change_reason = reason[:100]  # type: ignore[attr-defined]


def _tracked_values(row: Any, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in fields}


def history_baseline(instance: models.Model, *, reason: str = AS_IT_STOOD) -> None:
    """Record `instance` as it stands (nobody's change, `reason` saying so) unless its history
    already ends there; call it on the locked row, before changing it.

    Not for a model whose history keeps many-to-many rows too (a user's groups): those rows are
    the library's to copy, and every change of them is recorded (m2m_changed) anyway.
    """
    history = instance.history  # type: ignore[attr-defined]
    if history.model._history_m2m_fields:
        return
    fields = [f.attname for f in history.model.tracked_fields]
    latest = history.order_by("-history_date", "-history_id").first()
    if latest is not None and _tracked_values(latest, fields) == _tracked_values(instance, fields):
        return
    history.model._default_manager.create(
        history_date=timezone.now(),
        history_type="~",
        history_user=None,
        history_change_reason=reason[:100],
        **_tracked_values(instance, fields),
    )


def with_changes(model: type[models.Model], records: list[Any]) -> list[Any]:
    """Give each of `records` (entries of several objects, newest first) the fields it changed
    against the entry before it of the same object, as the History page lists them."""
    older: dict[Any, Any] = {}
    for record in reversed(records):
        key = getattr(record, model._meta.pk.attname)
        if (previous := older.get(key)) is not None:
            delta = record.diff_against(previous, foreign_keys_are_objs=True)
            helper = HistoricalRecordContextHelper(model, record)
            record.history_delta_changes = helper.context_for_delta_changes(delta)
        older[key] = record
    return records


def _baseline_stored(obj: models.Model) -> None:
    """Before a change in the admin: the row as stored, if its history does not end there (it
    was saved before the audit began, or by the machine)."""
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    if stored is not None:
        history_baseline(stored)


BIGGEST_ID = 2**63 - 1


def _valid_or_404(field: Any, value: str) -> Any:
    """The key `value` names in `field`, or 404 (never a 500 for a word or a huge number)."""
    try:
        key = field.to_python(unquote(value))
    except ValidationError:
        raise Http404 from None
    if isinstance(key, int) and not 0 < key <= BIGGEST_ID:
        raise Http404
    return key


class HistoryAdmin(SimpleHistoryAdmin):
    """The admin's History page lists each recorded change: when, by whom, why, and the fields
    it changed (old -> new).

    Only to read: reverting to an old version would write a row past the services and their
    rules, and the library's version page saves on POST for anyone who may view the object.
    Who may see the history is who may see the object (its view permission).
    """

    object_history_list_template = "admin/audit/history_list.html"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            _baseline_stored(obj)
        super().save_model(request, obj, form, change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # An inline's rows (a plan's targets) have their own history when their model does.
        if hasattr(formset.model, "history"):
            for row_form in formset.initial_forms:
                if row_form.instance.pk is not None and row_form.has_changed():
                    _baseline_stored(row_form.instance)
        super().save_formset(request, form, formset, change)

    def get_urls(self) -> list[URLPattern]:
        # The library's version page as a route with named parts (its regex has unnamed
        # groups, which the login wall's walk of the URLconf cannot fill in).
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_simple_history"
        version = path(
            "<path:object_id>/history/<int:version_id>/",
            self.admin_site.admin_view(self.history_form_view),
            name=name,
        )
        return [version, *(u for u in super().get_urls() if getattr(u, "name", "") != name)]

    def object_key(self, object_id: str) -> Any:
        """The object's primary key from the address, or 404."""
        return _valid_or_404(self.model._meta.pk, object_id)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The library filters by the raw id: a word where a number belongs would be a 500.
        self.object_key(object_id)
        return super().history_view(request, object_id, extra_context)

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: int | str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method != "GET":
            raise PermissionDenied
        self.object_key(object_id)
        _valid_or_404(self.model.history.model._meta.pk, str(version_id))
        return super().history_form_view(request, object_id, version_id, extra_context)
