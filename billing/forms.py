"""Forms for the billing pages: validate and normalise only; the services do the writing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.urls import reverse

from billing.models import ExportFormat, Invoice, InvoiceKind, InvoiceLine
from billing.periods import Period, PeriodError
from clients.ids import MAX_ID
from clients.money import money


class MonthInput(forms.TextInput):
    """<input type="month">: browsers that have no month picker show a text box for "2026-11"."""

    input_type = "month"


class PeriodField(forms.Field):
    """A month typed as "2026-11", cleaned to a Period."""

    widget = MonthInput

    def to_python(self, value: Any) -> Period | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            return Period.parse(text)
        except PeriodError as exc:
            raise forms.ValidationError(str(exc)) from exc


class PeriodPickerForm(forms.Form):
    """The month picker at the top of a period's page (GET: it only navigates)."""

    period = PeriodField(label="Month", error_messages={"required": "Pick a month to show."})

    def __init__(self, *args: Any, latest: Period, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Months that have not ended cannot be billed: the picker stops at the last closed one.
        self.fields["period"].widget.attrs.update({"max": str(latest), "aria-label": "Month"})
        self.helper = FormHelper()
        self.helper.form_id = "period-picker"
        self.helper.form_method = "get"
        self.helper.form_action = reverse("billing:index")
        self.helper.form_class = "d-flex align-items-center gap-2"
        self.helper.form_show_labels = False
        self.helper.layout = Layout(
            Field("period", wrapper_class="mb-0", css_class="form-control-sm"),
            StrictButton("Show", type="submit", css_class="btn btn-sm btn-outline-secondary"),
        )


class IssueForm(forms.Form):
    """Issue one client's invoice (client given) or every draft of the period (none given)."""

    client = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class ExportForm(forms.Form):
    """The period's two export buttons, sharing one checkbox."""

    include_exported = forms.BooleanField(
        required=False, label="Include invoices already exported in that format"
    )

    def __init__(self, *args: Any, period: Period, pending: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "export-form"
        self.helper.form_method = "post"
        self.helper.form_class = "d-flex flex-wrap align-items-center gap-2"
        buttons = []
        for export_format in ExportFormat:
            url = reverse("billing:export", args=[str(period), export_format.value])
            name = "Xero" if export_format == ExportFormat.XERO else "QuickBooks"
            count = pending.get(export_format.value, 0)
            buttons.append(
                StrictButton(
                    f"Export for {name} (CSV)",
                    type="submit",
                    formaction=url,
                    css_id=f"export-{export_format.value}",
                    css_class="btn btn-outline-primary btn-sm",
                )
            )
            buttons.append(
                HTML(
                    f'<span class="small text-body-secondary me-2">{count} not yet exported</span>'
                )
            )
        credit_notes = pending.get("credit_notes", 0)
        if credit_notes:
            # Our own sentence and a number: safe inside the template string.
            buttons.append(
                HTML(
                    '<p class="small text-body-secondary w-100 mb-0">QuickBooks Online cannot '
                    f"import credit notes: enter this month's {credit_notes} by hand there "
                    "(the Xero file holds them).</p>"
                )
            )
        self.helper.layout = Layout(*buttons, Div("include_exported", css_class="ms-2"))
        # The form has a button per format; without JavaScript a press still names its format.
        self.helper.form_action = reverse("billing:export", args=[str(period), "xero"])


EXPORTED_CHOICES = [
    ("", "Any export state"),
    ("xero", "Exported to Xero"),
    ("not-xero", "Not yet exported to Xero"),
    ("quickbooks", "Exported to QuickBooks"),
    ("not-quickbooks", "Not yet exported to QuickBooks"),
]


class InvoiceFilterForm(forms.Form):
    """The issued list's filters (GET); an invalid filter is ignored and said so."""

    period = PeriodField(label="Month", required=False)
    kind = forms.ChoiceField(
        choices=[("", "Invoices and credit notes"), *InvoiceKind.choices], required=False
    )
    q = forms.CharField(
        required=False, max_length=100, strip=True, label="Client", widget=forms.SearchInput
    )
    exported = forms.ChoiceField(choices=EXPORTED_CHOICES, required=False, label="Export")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "invoice-filters"
        self.helper.form_method = "get"
        self.helper.form_action = reverse("billing:invoices")
        self.helper.form_class = "row g-2 align-items-end mb-3"
        self.helper.form_show_errors = False
        self.helper.layout = Layout(
            Div(Field("period", css_class="form-control-sm"), css_class="col-6 col-md-2"),
            Div(Field("kind", css_class="form-select-sm"), css_class="col-6 col-md-3"),
            Div(
                Field("q", css_class="form-control-sm", placeholder="Name"),
                css_class="col-6 col-md-3",
            ),
            Div(Field("exported", css_class="form-select-sm"), css_class="col-6 col-md-2"),
            Div(
                StrictButton("Filter", type="submit", css_class="btn btn-sm btn-secondary"),
                HTML(
                    '<a class="btn btn-sm btn-link" href="{% url "billing:invoices" %}">Clear</a>'
                ),
                css_class="col-auto mb-3",
            ),
        )

    def filters(self) -> dict[str, Any]:
        """The valid filters that are set; an invalid one is left out (the page says so)."""
        if not self.is_bound:
            return {}
        self.is_valid()  # cleaned_data then holds the fields that are valid
        return {name: value for name, value in self.cleaned_data.items() if value}

    def query_string(self) -> str:
        """The valid filters as a query string, for the page links."""
        params = {k: str(v) for k, v in self.filters().items() if v}
        return urlencode(params)


class CreditNoteForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        label="Reason",
        help_text="Printed on the credit note: the client reads it.",
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the invoice is being credited."},
    )
    lines = forms.MultipleChoiceField(
        required=False,
        label="Lines to credit",
        help_text="None ticked: every line not yet credited.",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self, *args: Any, invoice: Invoice, open_lines: list[InvoiceLine], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [  # type: ignore[attr-defined]
            (str(line.pk), f"{line.position}. {line.description} ({money(line.amount)})")
            for line in open_lines
        ]
        self.helper = FormHelper()
        self.helper.form_id = "credit-form"
        self.helper.form_action = reverse("billing:credit", args=[invoice.number])
        self.helper.layout = Layout(
            "reason",
            "lines",
            StrictButton("Issue credit note", type="submit", css_class="btn btn-outline-danger"),
        )

    def line_ids(self) -> list[int] | None:
        """The ticked lines, or None for all of them."""
        return [int(pk) for pk in self.cleaned_data["lines"]] or None
