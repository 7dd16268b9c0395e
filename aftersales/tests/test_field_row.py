"""``field_row`` writes what ``dashboard/includes/field.html`` wrote as a template, byte for byte."""

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

# The include as it was, before it called the tag (with its optional marker's brackets since moved
# into the translation, which writes （选填） in Chinese).
FIELD_TEMPLATE = """{% load i18n %}<div class="field{% if field.errors %} field--error{% endif %}{% if field.field.widget.input_type == 'checkbox' %} field--check{% endif %}">
  {% if field.field.widget.input_type == 'checkbox' %}{{ field }} <label for="{{ field.id_for_label }}">{{ field.label }}</label>{% else %}
  <label for="{{ field.id_for_label }}">{{ field.label }}{% if not field.field.required %} <span class="muted">{% translate "(optional)" %}</span>{% endif %}</label>
  {{ field }}{% endif %}
  {% if field.help_text %}<p class="field__help" id="{{ field.auto_id }}_helptext">{{ field.help_text }}</p>{% endif %}
  {% if field.errors %}<div class="field__errors" role="alert">{{ field.errors }}</div>{% endif %}
</div>
"""  # noqa: E501


class _Form(forms.Form):
    body = forms.CharField(widget=forms.Textarea, max_length=10, help_text='Say <what> & "why"')
    note = forms.CharField(required=False, label="A <note>")
    urgent = forms.BooleanField(required=False, help_text="Tick it")
    kind = forms.ChoiceField(choices=[("a", "A & B"), ("b", "B")])
    upload = forms.FileField(required=False)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("data", [None, {"body": "far too long a body", "kind": "zzz", "urgent": "on"}, {}])
def test_field_row_writes_what_the_include_wrote(language, data):
    form = _Form(data)
    with translation.override(language):
        for field in form:
            expected = Template(FIELD_TEMPLATE).render(Context({"field": field}))
            include = Template('{% include "dashboard/includes/field.html" %}').render(Context({"field": field}))
            tag = Template("{% load dashboard_tags %}{% field_row field %}").render(Context({"field": field}))
            assert tag == expected.removesuffix("\n")
            assert include == expected


class _RuleForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        choices=[("return", "Return"), ("repair", "Repair")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any.",
    )


def test_a_list_of_boxes_has_its_label_above_it_not_squeezed_beside_it_like_one_box():
    field = _RuleForm()["kinds"]

    with translation.override("en"):
        html = Template("{% load dashboard_tags %}{% field_row field %}").render(Context({"field": field}))

    assert html.startswith(
        '<div class="field" role="group" aria-labelledby="id_kinds_caption">\n  \n'
        '  <span class="field__caption" id="id_kinds_caption">Kinds <span class="muted">(optional)</span></span>\n'
        '  <div id="id_kinds">'
    )
    assert html.index("Kinds") < html.index('value="return"') < html.index("None ticked: any.")
