"""Forms for the workspace: validate and normalise only; the services do the writing."""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import urlencode

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from billing.models import RateCard
from clients.ids import MAX_ID, parse_id
from clients.models import Client, Contact
from clients.money import money
from clients.people import staff_name
from contracts.models import Priority, ServiceContract
from tickets.models import MAX_MINUTES_PER_ENTRY, QueueTier, Ticket, TicketStatus
from tickets.queue import QueueFilters
from tickets.services import TRANSITIONS

__all__ = ["MAX_ID", "parse_id"]  # imported from here by older callers

MAX_TEXT = 20_000  # characters in a description, reply or note: a long email, not a log dump


def clients_with_contract_flag(*, with_dropped: bool = False) -> QuerySet[Client]:
    """Active clients (and dropped ones, for a manager who may override a drop), each marked
    `on_contract` (one EXISTS, not a query per client)."""
    clients = Client.objects.all() if with_dropped else Client.objects.active()
    return clients.annotate(on_contract=ServiceContract.objects.client_holds_one())


def live_filters(*, form_id: str, url: str, target: str, trigger: str) -> FormHelper:
    """The helper of a row of filters that asks again as they change: htmx swaps `target` and
    the address follows. An invalid filter is ignored, and the page says so once under the
    filters: errors under each small field would break the row."""
    helper = FormHelper()
    helper.form_id = form_id
    helper.form_method = "get"
    helper.form_action = url
    helper.form_class = "row g-2 align-items-end"
    helper.form_show_errors = False
    helper.attrs = {
        "hx-get": url,
        "hx-target": target,
        "hx-swap": "outerHTML",
        "hx-push-url": "true",
        "hx-trigger": trigger,
    }
    return helper


class QueueFilterForm(forms.Form):
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    tier = forms.TypedChoiceField(
        choices=[("", "Any tier"), *QueueTier.choices], coerce=int, empty_value=None, required=False
    )
    assignee = forms.ChoiceField(required=False)
    q = forms.CharField(
        required=False, max_length=100, strip=True, label="Search", widget=forms.SearchInput
    )
    waiting = forms.BooleanField(required=False, label="Waiting on client")
    # One client's tickets: the client page's "all in the queue" link sets it; the filters keep it.
    client = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, people: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "Anyone"),
            ("me", "Mine"),
            ("none", "Unassigned"),
            *((str(p.pk), staff_name(p)) for p in people),
        ]
        self.helper = live_filters(
            form_id="queue-filters",
            url=reverse("tickets:queue"),
            target="#queue-table",
            trigger="change, keyup changed delay:400ms from:#id_q, submit",
        )
        self.helper.layout = Layout(
            Div(Field("priority", css_class="form-select-sm"), css_class="col-6 col-md-2"),
            Div(Field("tier", css_class="form-select-sm"), css_class="col-6 col-md-2"),
            Div(Field("assignee", css_class="form-select-sm"), css_class="col-6 col-md-2"),
            Div(
                Field("q", css_class="form-control-sm", placeholder="Subject, client or #id"),
                css_class="col-6 col-md-3",
            ),
            Div("waiting", css_class="col-6 col-md-2"),
            Field("client"),
            HTML(
                '<noscript><div class="col-auto mb-3">'
                '<button class="btn btn-sm btn-secondary">Filter</button></div></noscript>'
            ),
        )

    def clean_client(self) -> int | None:
        raw = self.cleaned_data["client"]
        if raw in ("", None):
            return None
        if (pk := parse_id(raw)) is None:
            raise forms.ValidationError("That client link is broken.")
        return pk

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
            client=None if "client" in errors else data.get("client"),
        )

    def query_string(self) -> str:
        f = self.filters()
        params = {
            "priority": f.priority,
            "tier": "" if f.tier is None else f.tier,
            "assignee": f.assignee,
            "q": f.q,
            "waiting": "on" if f.waiting else "",
            "client": "" if f.client is None else f.client,
        }
        return urlencode({k: v for k, v in params.items() if v != ""})


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} <{obj.email}>"


class TicketOpenForm(forms.Form):
    client = forms.ModelChoiceField(
        # Dropped clients too, so that the form says why they are refused (clean()).
        queryset=Client.objects.all(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Pick a client from the list.",
            "invalid_choice": "Pick an active client from the list.",
        },
    )
    contact = ContactChoiceField(
        queryset=Contact.objects.none(), required=False, empty_label="Primary contact"
    )
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea, max_length=MAX_TEXT, required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    paid_priority = forms.BooleanField(
        required=False,
        label="Client pays for priority service",
        help_text="Transactional clients only: a surcharge moves the ticket ahead of other break-fix work.",
    )
    override_drop = forms.BooleanField(
        required=False,
        label="Open it anyway (manager's override)",
        help_text="This client was dropped. The ticket's history will say you overrode the drop.",
    )
    # This form's own id, made when it is shown and kept when it is shown again with errors: a
    # second send of the same form finds the ticket the first one opened (Ticket.submission).
    submission = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, may_override_drop: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Managers may pick a dropped client and override the drop; for anyone else the field
        # does not exist and a dropped client is refused with the reason.
        self.may_override_drop = may_override_drop
        if not may_override_drop:
            del self.fields["override_drop"]
        if not self.is_bound:
            self.initial.setdefault("submission", uuid.uuid4())
        surcharge = money(RateCard.load().paid_priority_surcharge)
        self.fields["paid_priority"].label = f"Client pays {surcharge} for priority service"
        raw = self.data.get("client") if self.is_bound else self.initial.get("client")
        self.client_id = parse_id(raw)
        if self.client_id:
            contacts = Contact.objects.filter(client_id=self.client_id)
            self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]

    @cached_property
    def chosen_client(self) -> Client | None:
        """The active client the form is for (marked `on_contract`), or None."""
        if not self.client_id:
            return None
        clients = clients_with_contract_flag(with_dropped=self.may_override_drop)
        return clients.filter(pk=self.client_id).first()

    @cached_property
    def helper(self) -> FormHelper:
        # Built when the form is shown, not when a valid POST is saved: the layout asks which
        # client is chosen, and that costs a query.
        chosen = self.chosen_client
        on_contract = bool(chosen and chosen.on_contract)  # type: ignore[attr-defined]
        helper = FormHelper()
        helper.form_action = reverse("tickets:new")
        helper.attrs = {"novalidate": True}
        helper.layout = Layout(
            # The search-and-pick widget for the hidden client field (static/js/ticket_new.js).
            HTML('{% include "tickets/_client_picker.html" %}'),
            "client",
            "submission",
            Div(
                Div(
                    Field(
                        "contact",
                        # Reloads its options when a client is picked.
                        hx_get=reverse("tickets:client_contacts"),
                        hx_trigger="client-picked",
                        hx_include="#id_client",
                        hx_target="this",
                        hx_swap="innerHTML",
                    ),
                    css_class="col-md-6",
                ),
                Div("priority", css_class="col-md-6"),
                css_class="row",
            ),
            "subject",
            Field("description", rows=5),
            # A contract client is served first already: no surcharge to offer.
            Div(
                "paid_priority",
                css_id="paid-priority-box",
                css_class="d-none" if on_contract else "",
            ),
            # Shown once a dropped client is chosen (after the first refusal, or from a link).
            *(["override_drop"] if chosen and chosen.is_dropped and self.may_override_drop else []),
            StrictButton("Open ticket", type="submit", css_class="btn-primary"),
            HTML('<a href="{% url \'tickets:queue\' %}" class="btn btn-link">Cancel</a>'),
        )
        return helper

    def clean_subject(self) -> str:
        subject = " ".join(self.cleaned_data["subject"].split())
        if not subject:
            raise forms.ValidationError("Say in a few words what is wrong.")
        return subject

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "submission" in self.errors:  # a hidden field: its own error would show nowhere
            self.add_error(None, "This form was damaged; open a new one.")
        client, contact = cleaned.get("client"), cleaned.get("contact")
        if client and contact and contact.client_id != client.pk:
            self.add_error("contact", "That contact works for another client.")
        if client and client.is_dropped and not cleaned.get("override_drop"):
            self.add_error(
                None,
                f"{client} has been dropped: tick “Open it anyway (manager's override)” to open "
                "the ticket, or reinstate the client."
                if self.may_override_drop
                else f"{client} has been dropped; only a manager can open a ticket for it.",
            )
        return cleaned


class TicketActionForm(forms.Form):
    """A form on the ticket page; it posts to its own address for that ticket."""

    url_name: ClassVar[str]

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        self.helper = FormHelper()
        self.helper.form_action = reverse(self.url_name, args=[ticket.pk])
        self.helper.layout = self.layout()

    def layout(self) -> Layout:
        raise NotImplementedError


class StatusForm(TicketActionForm):
    prefix = "status"  # several forms share one page: keep their field ids apart
    url_name = "tickets:status"
    status = forms.ChoiceField(
        label="New status",
        choices=TicketStatus.choices,
        error_messages={"required": "Choose the status to change to."},
    )
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        allowed = TRANSITIONS.get(ticket.status, frozenset())
        # Only the statuses the ticket may move to, after an empty choice: the first of them
        # shown as selected read as the ticket's status beside a badge that said another.
        self.fields["status"].choices = [  # type: ignore[attr-defined]
            ("", "Choose…"),
            *((v, label) for v, label in TicketStatus.choices if v in allowed),
        ]

    def layout(self) -> Layout:
        return Layout(
            "status",
            Field("note", placeholder="Why (optional)"),
            StrictButton("Change status", type="submit", css_class="btn-outline-dark btn-sm"),
        )


class ReplyForm(TicketActionForm):
    prefix = "reply"  # several forms share one page: keep their field ids apart
    url_name = "tickets:reply"
    body = forms.CharField(label="Reply to the client", widget=forms.Textarea, max_length=MAX_TEXT)
    wait_on_client = forms.BooleanField(
        required=False, label="Then wait on the client (pauses the SLA clock)"
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something to send.")
        return body

    def layout(self) -> Layout:
        return Layout(
            Field("body", rows=4),
            "wait_on_client",
            StrictButton("Send reply", type="submit", css_class="btn-primary"),
            # The address comes from the page's `ticket` as a template variable, escaped; put
            # into the HTML string itself, an address could inject template code.
            HTML(
                '<span class="text-body-secondary small ms-2">Emailed to '
                '{{ ticket.contact.email|default:"— no contact —" }}</span>'
            ),
        )


class NoteForm(TicketActionForm):
    prefix = "note"  # several forms share one page: keep their field ids apart
    url_name = "tickets:note"
    body = forms.CharField(label="Internal note", widget=forms.Textarea, max_length=MAX_TEXT)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("The note is empty.")
        return body

    def layout(self) -> Layout:
        return Layout(
            Field("body", rows=3),
            StrictButton("Add note", type="submit", css_class="btn-warning"),
        )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return staff_name(obj)


class AssignForm(TicketActionForm):
    prefix = "assign"  # several forms share one page: keep their field ids apart
    url_name = "tickets:assign"
    assignee = PersonChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="Unassigned"
    )

    def __init__(self, *args: Any, ticket: Ticket, people: Any, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        self.fields["assignee"].queryset = people  # type: ignore[attr-defined]

    def layout(self) -> Layout:
        return Layout(
            "assignee",
            StrictButton("Assign", type="submit", css_class="btn-outline-dark btn-sm"),
        )


class DateInput(forms.DateInput):
    input_type = "date"  # the browser's date picker; it sends ISO dates, which parse as is


class TimeForm(TicketActionForm):
    prefix = "time"  # several forms share one page: keep their field ids apart
    url_name = "tickets:time"
    minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_MINUTES_PER_ENTRY,
        error_messages={
            "min_value": "Log at least one minute.",
            "max_value": f"At most {MAX_MINUTES_PER_ENTRY // 60} hours in one entry; split longer work.",
        },
    )
    work_date = forms.DateField(initial=timezone.localdate, widget=DateInput)
    note = forms.CharField(required=False, max_length=500)
    after_hours = forms.BooleanField(
        required=False,
        label="After hours",
        help_text="Done outside business hours (billed at the after-hours rate, if one is set).",
    )

    def clean_work_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["work_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("That day has not happened yet.")
        if day < timezone.localdate() - dt.timedelta(days=90):
            raise forms.ValidationError(
                "Log work within 90 days; older corrections go through a manager."
            )
        return day

    def layout(self) -> Layout:
        self.helper.form_class = "row g-2 align-items-start"
        billing = (
            "Within the contract's included hours for the month it is covered; beyond that it "
            "is billed at the overage rate."
            if self.ticket.is_contract_ticket
            else "Billed at the hourly rate."
        )
        return Layout(
            Div("minutes", css_class="col-sm-3"),
            Div("work_date", css_class="col-sm-4"),
            Div("note", css_class="col-sm-5"),
            Div("after_hours", css_class="col-12"),
            Div(
                StrictButton("Log time", type="submit", css_class="btn-success"),
                # A fixed sentence of ours, no user text: safe inside the template string.
                HTML(f'<span class="text-body-secondary small ms-2">{billing}</span>'),
                css_class="col-12",
            ),
        )
