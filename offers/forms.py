"""The public offer page's form: validate and normalise only; offers.services.offer_accept writes."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.urls import reverse
from django.utils.html import format_html

from contracts.models import ContractTerms
from offers.models import SIGNER_MAX_LENGTH, ConversionOffer


class AcceptanceForm(forms.Form):
    """Who accepts the offer on the client's behalf, and the tick on the terms. The fields are
    stripped (a name of spaces is no name); offer_accept puts each on one line."""

    signer_name = forms.CharField(
        label="Your full name",
        max_length=SIGNER_MAX_LENGTH,
        error_messages={
            "required": "Enter your full name: it is how you sign the contract.",
            "max_length": "Your name can be at most %(limit_value)d characters long "
            "(it has %(show_value)d).",
        },
    )
    signer_role = forms.CharField(
        label="Your role at the company",
        max_length=SIGNER_MAX_LENGTH,
        help_text="For example: owner, office manager, practice manager.",
        error_messages={
            "required": "Enter your role: we need to know you may sign for the company.",
            "max_length": "Your role can be at most %(limit_value)d characters long "
            "(it has %(show_value)d).",
        },
    )
    agree = forms.BooleanField(
        error_messages={"required": "Tick “I agree to the terms” to accept the contract."},
    )

    def __init__(
        self, *args: Any, offer: ConversionOffer, terms: ContractTerms, token: str, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.terms = terms
        # The terms open in a tab of their own: the name and role typed so far stay put.
        self.fields["agree"].label = format_html(
            'I agree to the <a href="{}" target="_blank" rel="noopener">terms of the {} '
            "contract</a> (version {})",
            reverse("offers:offer_terms", args=[token]),
            offer.plan.name,
            terms.version,
        )
        self.fields["signer_role"].label = f"Your role at {offer.client.name}"
        # What the browser may fill in, and what it should call the field (not layout).
        self.fields["signer_name"].widget.attrs["autocomplete"] = "name"
        self.fields["signer_role"].widget.attrs["autocomplete"] = "organization-title"
        self.helper = FormHelper()
        self.helper.form_id = "accept-form"
        self.helper.form_method = "post"
        self.helper.form_action = reverse("offers:offer_accept", args=[token])
        # The server's reasons, worded alike in every browser, rather than the browser's own
        # bubbles (maxlength still stops typing past 200 characters).
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            Field("signer_name"),
            Field("signer_role"),
            Field("agree"),
            StrictButton(
                "Accept the contract",
                type="submit",
                css_class="btn-success btn-lg",
                css_id="accept-offer",
            ),
        )
