"""The forms of renewing, cancelling, dropping and reinstating from the staff pages (the
insights' renewals and drop candidates, the workspace's client page): validate and normalise
only; the contracts and clients services do the writing. Here, below both apps that show them."""

from __future__ import annotations

from typing import Any

from django import forms

from clients.ids import parse_id
from clients.models import Client, ClientStatus
from contracts.models import ServiceContract


def field_length(model: type, name: str) -> int:
    return int(model._meta.get_field(name).max_length)  # type: ignore[attr-defined]


class IdChoiceField(forms.ModelChoiceField):
    """A row picked by its id: anything but a plain positive id ("²", "-1", a huge number) is
    refused with the field's message before the database is asked."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        pk = parse_id(value)
        if pk is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(pk)


def _contract_field() -> IdChoiceField:
    return IdChoiceField(
        queryset=ServiceContract.objects.active().select_related("client", "plan"),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say which contract.",
            "invalid_choice": "That contract is not active (it may have been renewed or "
            "cancelled already).",
        },
    )


class RenewForm(forms.Form):
    contract = _contract_field()
    confirm = forms.BooleanField(
        label="Yes, renew it for another term at the price shown",
        error_messages={"required": "Tick the box to confirm the renewal."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The renew and cancel forms share a page: their fields' ids must differ.
        kwargs.setdefault("auto_id", "id_renew_%s")
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    contract = _contract_field()
    reason = forms.CharField(
        label="Why is it cancelled?",
        max_length=field_length(ServiceContract, "end_reason"),
        error_messages={"required": "Give a reason for cancelling."},
    )
    confirm = forms.BooleanField(
        label="Yes, cancel it now: the client becomes transactional",
        error_messages={"required": "Tick the box to confirm the cancellation."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_cancel_%s")
        super().__init__(*args, **kwargs)


class DropForm(forms.Form):
    client = IdChoiceField(
        queryset=Client.objects.active(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say which client.",
            "invalid_choice": "That client is not an active client (it may have been dropped "
            "already).",
        },
    )
    reason = forms.CharField(
        label="Reason",
        max_length=field_length(Client, "drop_reason"),
        error_messages={"required": "Give a reason for dropping the client."},
    )


class UndoDropForm(forms.Form):
    client = IdChoiceField(
        queryset=Client.objects.filter(status=ClientStatus.DROPPED),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Say which client.",
            "invalid_choice": "That client is not dropped (it may have been reinstated already).",
        },
    )


def form_errors(form: forms.Form) -> str:
    """Every error of a bound form in one sentence, for a message."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
