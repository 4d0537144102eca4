"""Forms for the billing pages: validate and normalise only; the services do the writing."""

from __future__ import annotations

from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.urls import reverse

from billing.models import ExportFormat
from billing.periods import Period, PeriodError

MAX_ID = 2**63 - 1  # the largest primary key the database can hold


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
        self.helper.layout = Layout(*buttons, Div("include_exported", css_class="ms-2"))
        # The form has a button per format; without JavaScript a press still names its format.
        self.helper.form_action = reverse("billing:export", args=[str(period), "xero"])
