from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.contrib.auth.forms import AuthenticationForm

from consultancy.client_erasure import REASON_LENGTH


class LoginForm(AuthenticationForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"].widget.attrs.update({"autofocus": True, "autocomplete": "username"})
        self.helper = FormHelper()
        self.helper.form_tag = False


class ClientErasureForm(forms.Form):
    """The erasure's confirmation: the client's name typed out, and why (for its history)."""

    confirm_name = forms.CharField(
        label="Type the client's name to confirm", max_length=200, strip=True
    )
    reason = forms.CharField(
        label="Reason",
        max_length=REASON_LENGTH,
        strip=True,
        help_text="Who asked and when, for the client's history (no personal data).",
    )

    def __init__(self, *args: Any, client_name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client_name = client_name

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"]
        if " ".join(typed.split()).casefold() != " ".join(self.client_name.split()).casefold():
            raise forms.ValidationError(
                "That is not the client's name; type it exactly as shown to confirm."
            )
        return typed
