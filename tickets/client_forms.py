"""The forms of the client list and of the client page's actions: validate and normalise only;
the clients, contracts and offers services do the writing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.urls import reverse

from contracts.forms import DropForm, UndoDropForm
from tickets.client_list import ClientFilters, Kind
from tickets.forms import live_filters


class ClientFilterForm(forms.Form):
    q = forms.CharField(
        required=False, max_length=100, strip=True, label="Search", widget=forms.SearchInput
    )
    kind = forms.ChoiceField(choices=Kind.CHOICES, required=False, label="Show")
    open_tickets = forms.BooleanField(required=False, label="Has open tickets")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = live_filters(
            form_id="client-filters",
            url=reverse("tickets:clients"),
            target="#client-table",
            trigger="change, input changed delay:300ms from:#id_q, submit",
        )
        self.helper.form_class += " mb-3"
        self.helper.layout = Layout(
            Div(
                Field(
                    "q",
                    css_class="form-control-sm",
                    placeholder="Name, contact, email, domain or #id",
                    autocomplete="off",
                    autofocus=True,
                ),
                css_class="col-12 col-md-5",
            ),
            Div(Field("kind", css_class="form-select-sm"), css_class="col-6 col-md-3"),
            Div("open_tickets", css_class="col-6 col-md-3"),
            HTML(
                '<noscript><div class="col-auto mb-3">'
                '<button class="btn btn-sm btn-secondary">Filter</button></div></noscript>'
            ),
        )

    def clean_q(self) -> str:
        # NUL cannot reach PostgreSQL in a string literal; runs of spaces match nothing.
        return " ".join(self.cleaned_data["q"].replace("\x00", "").split())

    def filters(self) -> ClientFilters:
        """The valid filters; an invalid field is left out (its error is shown)."""
        data = self.cleaned_data if self.is_bound else {}
        errors = self.errors if self.is_bound else {}
        return ClientFilters(
            q="" if "q" in errors else data.get("q") or "",
            kind="" if "kind" in errors else data.get("kind") or "",
            open_tickets=False if "open_tickets" in errors else bool(data.get("open_tickets")),
        )

    def query_string(self) -> str:
        f = self.filters()
        params = {"q": f.q, "kind": f.kind, "open_tickets": "on" if f.open_tickets else ""}
        return urlencode({k: v for k, v in params.items() if v})


# --- The client page's actions: each the form its other page uses, plus a confirmation ------
class OfferNowForm(forms.Form):
    confirm = forms.BooleanField(
        label="Yes, send the offer now",
        error_messages={"required": "Tick the box to confirm the offer."},
    )


class ClientDropForm(DropForm):
    confirm = forms.BooleanField(
        label="Yes, drop the client: no more offers, and new tickets need a manager",
        error_messages={"required": "Tick the box to confirm the drop."},
    )


class ClientReinstateForm(UndoDropForm):
    confirm = forms.BooleanField(
        label="Yes, reinstate the client",
        error_messages={"required": "Tick the box to confirm the reinstatement."},
    )
