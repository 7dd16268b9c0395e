"""The widgets written in Python are the markup Django's templates write, byte for byte."""

from datetime import date
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from aftersales.form_renderer import FastWidgetRenderer

TRICKY = "a <b> & \"c\" 'd'"

CHOICES = [("", "---------"), ("a", TRICKY), (3, _("Open")), (Decimal("1.50"), Decimal("1234.5"))]
GROUPED = [("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Z"), ("Empty", [])]

WIDGETS = [
    (forms.TextInput(), "x"),
    (forms.TextInput(), None),
    (forms.TextInput(attrs={"placeholder": TRICKY, "required": True, "disabled": False, "data-x": None}), TRICKY),
    (forms.TextInput(attrs={"data-safe": mark_safe("<i>")}), mark_safe("<b>")),
    (forms.EmailInput(attrs={"maxlength": 254}), "a@example.com"),
    (forms.NumberInput(attrs={"min": 0, "step": "0.01"}), 12),
    (forms.NumberInput(), Decimal("1234.50")),
    (forms.DateInput(), date(2026, 12, 6)),
    (forms.DateTimeInput(attrs={"type": "datetime-local"}), "2026-12-06T10:00"),
    (forms.TimeInput(), "10:00"),
    (forms.URLInput(), "https://example.com/?a=1&b=2"),
    (forms.HiddenInput(), "hidden"),
    (forms.PasswordInput(render_value=True), "secret"),
    (forms.SearchInput() if hasattr(forms, "SearchInput") else forms.TextInput(), "q"),
    (forms.CheckboxInput(), True),
    (forms.CheckboxInput(), False),
    (forms.CheckboxInput(attrs={"class": "c"}), None),
    (forms.Textarea(attrs={"rows": 3}), TRICKY + "\nline two"),
    (forms.Textarea(), ""),
    (forms.Textarea(), None),
    (forms.FileInput(attrs={"accept": "image/*"}), None),
    (forms.ClearableFileInput(attrs={"class": "f"}), None),
    (forms.Select(choices=CHOICES), "a"),
    (forms.Select(choices=CHOICES, attrs={"required": True, "aria-describedby": "h"}), ""),
    (forms.Select(choices=CHOICES), 3),
    (forms.Select(choices=CHOICES), None),
    (forms.Select(choices=GROUPED), "y"),
    (forms.Select(choices=[]), None),
    (forms.SelectMultiple(choices=CHOICES), ["a", "3"]),
    (forms.NullBooleanSelect(), True),
]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("widget", "value"), WIDGETS, ids=[f"{type(widget).__name__}-{index}" for index, (widget, _v) in enumerate(WIDGETS)]
)
def test_the_fast_widgets_write_what_the_templates_write(widget, value, language):
    with translation.override(language):
        expected = widget.render("field", value, attrs={"id": "id_field"}, renderer=DjangoTemplates())
        fast = widget.render("field", value, attrs={"id": "id_field"}, renderer=FastWidgetRenderer())
    assert fast == expected


class _EveryKind(forms.Form):
    text = forms.CharField(max_length=20, help_text="Help")
    optional = forms.CharField(required=False, widget=forms.Textarea)
    kind = forms.ChoiceField(choices=CHOICES[1:])
    radio = forms.ChoiceField(choices=CHOICES[1:], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(choices=CHOICES[1:], widget=forms.CheckboxSelectMultiple, required=False)
    when = forms.SplitDateTimeField(required=False)
    day = forms.DateField(widget=forms.SelectDateWidget, required=False)
    upload = forms.FileField(required=False)
    agree = forms.BooleanField(required=False)


@pytest.mark.parametrize("bound", [False, True])
def test_a_whole_form_renders_the_same_whatever_the_renderer(bound):
    data = {"text": TRICKY, "kind": "a", "radio": "3", "boxes": ["a"], "agree": "on"} if bound else None
    expected = str(_EveryKind(data, renderer=DjangoTemplates()))
    fast = str(_EveryKind(data, renderer=FastWidgetRenderer()))
    assert fast == expected
    # The widgets handed to Django's templates (radio lists, multi-widgets) are there too.
    assert 'type="radio"' in fast
    assert "<select" in fast


def test_the_project_renders_forms_with_the_fast_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastWidgetRenderer)
