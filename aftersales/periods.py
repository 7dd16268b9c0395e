"""The period a report covers, picked on a page: shared by the reports of every app."""

from datetime import date, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

REPORT_DEFAULT_DAYS = 30
REPORT_MAX_DAYS = 366
REPORT_FIRST_DAY = date(1970, 1, 1)
REPORT_LAST_DAY = date(2999, 12, 31)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class ReportPeriodForm(forms.Form):
    """A period of whole days in the merchant's time zone, both ends included; by default the
    last 30 days up to today."""

    # Days at the ends of the calendar (0001-01-01, 9999-12-31) cannot be turned into the times the
    # report reads; a period of a merchant's business lies well inside these.
    start = forms.DateField(
        label=_("From"),
        widget=DateInput(),
        validators=[MinValueValidator(REPORT_FIRST_DAY), MaxValueValidator(REPORT_LAST_DAY)],
    )
    end = forms.DateField(
        label=_("Until"),
        widget=DateInput(),
        validators=[MinValueValidator(REPORT_FIRST_DAY), MaxValueValidator(REPORT_LAST_DAY)],
    )

    def __init__(self, *args, today: date, **kwargs):
        self.default_start = today - timedelta(days=REPORT_DEFAULT_DAYS - 1)
        self.default_end = today
        kwargs.setdefault("initial", {"start": self.default_start, "end": self.default_end})
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            if (end - start).days + 1 > REPORT_MAX_DAYS:
                raise forms.ValidationError(_("Pick a period of at most %(days)s days.") % {"days": REPORT_MAX_DAYS})
        return cleaned

    def period(self) -> tuple[date, date]:
        """The chosen days, or the default period when the form is unbound or invalid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return self.default_start, self.default_end
