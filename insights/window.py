"""The months a report covers, and the picker that chooses them (GET only: it navigates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils import timezone

from billing.forms import PeriodField
from billing.periods import Period, months_between

MONTH_CHOICES = [(3, "3 months"), (6, "6 months"), (12, "12 months"), (24, "24 months")]
DEFAULT_MONTHS = 12
EARLIEST = Period(2000, 1)


@dataclass(frozen=True)
class Window:
    """`months` calendar months ending with `last` (which may be the month in progress)."""

    last: Period
    months: int = DEFAULT_MONTHS

    @classmethod
    def default(cls, today: dt.date | None = None) -> Window:
        return cls(Period.of(today or timezone.localdate()))

    @property
    def periods(self) -> list[Period]:
        """The months, oldest first."""
        first = self.last
        for _ in range(self.months - 1):
            first = first.previous
        return months_between(first, self.last)

    @property
    def first(self) -> Period:
        return self.periods[0]

    def starts_at(self) -> dt.datetime:
        return self.first.starts_at()

    def ends_at(self, now: dt.datetime | None = None) -> dt.datetime:
        """The window's end: the end of its last month, or now while that month runs."""
        return min(self.last.ends_at(), now or timezone.now())

    def query(self) -> str:
        return f"to={self.last}&months={self.months}"


class WindowForm(forms.Form):
    """Which months to show: the last one and how many."""

    to = PeriodField(
        label="Up to",
        required=False,
        error_messages={"invalid": "Pick a month as YYYY-MM."},
    )
    months = forms.TypedChoiceField(
        label="Months", choices=MONTH_CHOICES, coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, action: str, today: dt.date | None = None, **kwargs: Any):
        current = Period.of(today or timezone.localdate())
        # Unbound, the picker shows the default window (the current month, 12 months).
        kwargs.setdefault("initial", {"to": str(current), "months": DEFAULT_MONTHS})
        super().__init__(*args, **kwargs)
        self.current = current
        self.fields["to"].widget.attrs.update(
            {"max": str(self.current), "min": str(EARLIEST), "aria-label": "Up to month"}
        )
        self.fields["months"].widget.attrs.update({"aria-label": "Months shown"})
        self.helper = FormHelper()
        self.helper.form_id = "window-picker"
        self.helper.form_method = "get"
        self.helper.form_action = action
        self.helper.form_class = "d-flex align-items-center gap-2 flex-wrap"
        self.helper.form_show_labels = False
        self.helper.layout = Layout(
            Field("to", wrapper_class="mb-0", css_class="form-control-sm"),
            Field("months", wrapper_class="mb-0", css_class="form-select-sm"),
            StrictButton("Show", type="submit", css_class="btn btn-sm btn-outline-secondary"),
        )

    def clean_to(self) -> Period | None:
        period: Period | None = self.cleaned_data.get("to")
        if period is None:
            return None
        if period > self.current:
            raise forms.ValidationError(
                f"{period.label} has not begun; pick {self.current.label} or earlier."
            )
        if period < EARLIEST:
            raise forms.ValidationError(f"Pick {EARLIEST.label} or later.")
        return period

    def window(self) -> Window:
        """The window asked for (after is_valid()), the default for what was left out."""
        return Window(
            self.cleaned_data.get("to") or self.current,
            self.cleaned_data.get("months") or DEFAULT_MONTHS,
        )
