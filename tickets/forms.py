"""Forms for the workspace: validate and normalise only; the services do the writing."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Client, Contact
from contracts.models import Priority
from tickets.models import MAX_MINUTES_PER_ENTRY, QueueTier, Ticket, TicketStatus
from tickets.queue import QueueFilters

MAX_TEXT = 20_000  # characters in a description, reply or note: a long email, not a log dump
WORK_PERMISSION = "tickets.change_ticket"


def consultants() -> Any:
    """Everyone who may work tickets (for assignment), in one query."""
    return (
        get_user_model()
        .objects.with_perm(WORK_PERMISSION, include_superusers=False)
        .filter(is_active=True)
        .order_by("first_name", "username")
    )


class QueueFilterForm(forms.Form):
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    tier = forms.TypedChoiceField(
        choices=[("", "Any tier"), *QueueTier.choices], coerce=int, empty_value=None, required=False
    )
    assignee = forms.ChoiceField(required=False)
    q = forms.CharField(required=False, max_length=100, strip=True)
    waiting = forms.BooleanField(required=False, label="Waiting on client")

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "Anyone"),
            ("me", "Mine"),
            ("none", "Unassigned"),
            *((str(p.pk), p.get_full_name() or p.get_username()) for p in people),
        ]

    def filters(self) -> QueueFilters:
        """Return the valid filters; an invalid field is left out (its error is shown)."""
        data = self.cleaned_data if self.is_bound else {}
        errors = self.errors if self.is_bound else {}
        value = lambda name, default: default if name in errors else data.get(name) or default  # noqa: E731
        return QueueFilters(
            priority=value("priority", ""),
            tier=None if "tier" in errors else data.get("tier"),
            assignee=value("assignee", ""),
            q=value("q", ""),
            waiting=bool(value("waiting", False)),
        )

    def query_string(self) -> str:
        f = self.filters()
        params = {
            "priority": f.priority,
            "tier": "" if f.tier is None else f.tier,
            "assignee": f.assignee,
            "q": f.q,
            "waiting": "on" if f.waiting else "",
        }
        return urlencode({k: v for k, v in params.items() if v != ""})


class TicketOpenForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.active(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Pick a client from the list.",
            "invalid_choice": "Pick an active client from the list.",
        },
    )
    contact = forms.ModelChoiceField(
        queryset=Contact.objects.none(), required=False, empty_label="Primary contact"
    )
    subject = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), max_length=MAX_TEXT, required=False
    )
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    paid_priority = forms.BooleanField(
        required=False,
        label="Client pays for priority service",
        help_text="Transactional clients only: a surcharge moves the ticket ahead of other break-fix work.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "paid_priority"
        ].label = f"Client pays ${settings.PAID_PRIORITY_SURCHARGE:,.2f} for priority service"
        raw = self.data.get("client") if self.is_bound else self.initial.get("client")
        text = str(raw or "")
        client_id = int(text) if text.isdigit() and len(text) < 19 else None
        if client_id:
            contacts = Contact.objects.filter(client_id=client_id)
            self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "client",
            Div(
                Div("contact", css_class="col-md-6"),
                Div("priority", css_class="col-md-6"),
                css_class="row",
            ),
            "subject",
            "description",
            Field("paid_priority"),
        )

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise forms.ValidationError("Say in a few words what is wrong.")
        return subject

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client, contact = cleaned.get("client"), cleaned.get("contact")
        if client and contact and contact.client_id != client.pk:
            self.add_error("contact", "That contact works for another client.")
        return cleaned


class StatusForm(forms.Form):
    prefix = "status"  # several forms share one page: keep their field ids apart
    status = forms.ChoiceField(choices=TicketStatus.choices)
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "Why (optional)"}),
    )

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tickets.services import TRANSITIONS

        allowed = TRANSITIONS.get(ticket.status, frozenset())
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            (v, label) for v, label in TicketStatus.choices if v in allowed
        ]


class ReplyForm(forms.Form):
    prefix = "reply"  # several forms share one page: keep their field ids apart
    body = forms.CharField(
        label="Reply to the client", widget=forms.Textarea(attrs={"rows": 4}), max_length=MAX_TEXT
    )
    wait_on_client = forms.BooleanField(
        required=False, label="Then wait on the client (pauses the SLA clock)"
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something to send.")
        return body


class NoteForm(forms.Form):
    prefix = "note"  # several forms share one page: keep their field ids apart
    body = forms.CharField(
        label="Internal note", widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_TEXT
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("The note is empty.")
        return body


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


class AssignForm(forms.Form):
    prefix = "assign"  # several forms share one page: keep their field ids apart
    assignee = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="Unassigned"
    )

    def __init__(self, *args: Any, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]


class TimeForm(forms.Form):
    prefix = "time"  # several forms share one page: keep their field ids apart
    minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_MINUTES_PER_ENTRY,
        error_messages={
            "min_value": "Log at least one minute.",
            "max_value": f"At most {MAX_MINUTES_PER_ENTRY // 60} hours in one entry; split longer work.",
        },
    )
    work_date = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(required=False, max_length=500)

    def clean_work_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["work_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("That day has not happened yet.")
        if day < timezone.localdate() - dt.timedelta(days=90):
            raise forms.ValidationError(
                "Log work within 90 days; older corrections go through a manager."
            )
        return day
