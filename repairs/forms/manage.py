"""The managers' forms: a technician's profile and time off, a part, stock received, moved and
counted. Querysets of choices are the request's merchant's, handed in by the view."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aftersales.models import BusinessCalendar, Product
from repairs.models import Part, StockLocation
from repairs.services.manage import MAX_LEVEL
from repairs.skills import known_skill_labels, skill_key, skill_label


class TechnicianForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False)
    skills = forms.CharField(
        label=_("Skills and levels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    areas = forms.CharField(
        label=_("Service areas"),
        required=False,
        help_text=_("Postal codes and districts, separated by commas; empty serves the whole city."),
    )
    home_latitude = forms.DecimalField(label=_("Home base latitude"), max_digits=9, decimal_places=6)
    home_longitude = forms.DecimalField(label=_("Home base longitude"), max_digits=9, decimal_places=6)
    calendar = forms.ModelChoiceField(
        label=_("Working calendar"),
        queryset=BusinessCalendar.objects.none(),
        required=False,
        empty_label=_("The merchant's calendar"),
    )
    daily_capacity = forms.IntegerField(label=_("Visits a day at most"), min_value=0, max_value=50)
    is_active = forms.BooleanField(label=pgettext_lazy("technician or part", "Active"), required=False)

    def __init__(self, *args, calendars, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = calendars
        # The example is code, kept out of the sentence translators punctuate.
        self.fields["skills"].help_text = gettext(
            "One a line: a skill, then its level 1–3. Known skills: %(known)s; another product category "
            "or a certification (such as %(example)s) is kept as written."
        ) % {"known": pgettext("list separator", ", ").join(known_skill_labels()), "example": "cert:gas"}

    def clean_skills(self) -> dict[str, int]:
        skills: dict[str, int] = {}
        for raw in self.cleaned_data["skills"].splitlines():
            line = raw.strip()
            if not line:
                continue
            name, _sep, level = line.rpartition(" ")
            try:
                value = int(level)
            except ValueError:
                value = 0
            if not name.strip() or not 1 <= value <= MAX_LEVEL:
                raise forms.ValidationError(
                    _("“%(line)s”: write the skill, a space and its level from 1 to %(max)s.")
                    % {"line": line, "max": MAX_LEVEL}
                )
            skills[skill_key(name)] = value
        return skills

    def clean_areas(self) -> list[str]:
        return [area.strip() for area in self.cleaned_data["areas"].replace("，", ",").split(",") if area.strip()]


def skills_as_lines(skills: dict[str, int]) -> str:
    """A profile's skills as the form shows them: a label and its level a line, in the active language."""
    return "\n".join(f"{skill_label(key)} {level}" for key, level in sorted(skills.items()))


class TimeOffForm(forms.Form):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class PartForm(forms.Form):
    part_number = forms.CharField(label=_("Part number"), max_length=100)
    name = forms.CharField(label=_("Name"), max_length=300)
    cost = forms.DecimalField(label=_("Cost"), max_digits=12, decimal_places=2, min_value=Decimal("0"))
    price = forms.DecimalField(label=_("Price"), max_digits=12, decimal_places=2, min_value=Decimal("0"))
    component = forms.CharField(
        label=_("Component"), max_length=100, required=False, help_text=_("For component warranties.")
    )
    is_active = forms.BooleanField(label=pgettext_lazy("technician or part", "Active"), required=False, initial=True)
    compatible_products = forms.ModelMultipleChoiceField(
        label=_("Compatible products"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compatible_products"].queryset = products


class ReceiveForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Into"), queryset=StockLocation.objects.none())
    part = forms.ModelChoiceField(label=_("Part"), queryset=Part.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, locations, parts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations
        self.fields["part"].queryset = parts


class TransferForm(forms.Form):
    to_location = forms.ModelChoiceField(label=_("To"), queryset=StockLocation.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, locations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_location"].queryset = locations


class AdjustForm(forms.Form):
    counted = forms.IntegerField(label=_("Counted on the shelf"), min_value=0)
    reason = forms.CharField(label=_("Why it differs"), max_length=300)
