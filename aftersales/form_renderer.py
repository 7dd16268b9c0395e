"""Django's form renderer, with the common widgets' templates rendered in Python.

A form field's widget is rendered through a template of its own (``django/forms/widgets/…``)
that includes ``attrs.html``, and a select includes ``select_option.html`` (with ``attrs.html``)
once per option: the ticket page's ~18 widgets and the queue's selects cost several milliseconds
of template machinery a request. ``FastWidgetRenderer`` writes the same markup as those templates
(byte for byte: ``tests/test_form_renderer.py`` compares both on every widget kind it handles,
with escaping, booleans, safe strings, groups and lazy labels) for inputs of every type, the
checkbox, the textarea, the select and the file input without an initial file; anything else
(radio lists, multi-widgets, a file input that shows its current file, a widget with a template
of its own) goes to Django's templates as before.

Escaping follows the template engine's rules exactly: each value goes through
``render_value_in_context`` (localisation and conditional escaping) and ``stringformat:'s'``
keeps a safe string safe, as the filter does.
"""

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.safestring import SafeData, SafeString
from django.utils.translation import gettext_noop

_WIDGETS = "django/forms/widgets/"
_INPUT_TEMPLATES = {
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "email",
        "number",
        "password",
        "url",
        "tel",
        "search",
        "hidden",
        "date",
        "datetime",
        "time",
        "color",
        "file",
        "checkbox",
    )
}
_OPTION_TEMPLATE = f"{_WIDGETS}select_option.html"


def _context() -> Context:
    # What a widget template is rendered with: autoescape on, localisation and time zone as set.
    return Context(autoescape=True)


def _var(value: Any, context: Context) -> str:
    """``{{ value }}``."""
    return render_value_in_context(value, context)


def _string(value: Any, context: Context) -> str:
    """``{{ value|stringformat:'s' }}``: a safe value stays unescaped, as the filter is is_safe."""
    text = str(value)
    if isinstance(value, SafeData):
        return text  # already safe: the filter keeps it so, and the template does not escape it
    return _var(text, context)


def _attrs(attrs: Mapping[str, Any], context: Context) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {_var(name, context)}")
        else:
            parts.append(f' {_var(name, context)}="{_string(value, context)}"')
    return "".join(parts)


def _input(widget: Mapping[str, Any], context: Context) -> str:
    value = widget["value"]
    shown = f' value="{_string(value, context)}"' if value is not None else ""
    return (
        f'<input type="{_var(widget["type"], context)}" name="{_var(widget["name"], context)}"'
        f"{shown}{_attrs(widget['attrs'], context)}>"
    )


def _textarea(widget: Mapping[str, Any], context: Context) -> str:
    value = widget["value"]
    body = _var(value, context) if value else ""
    return f'<textarea name="{_var(widget["name"], context)}"{_attrs(widget["attrs"], context)}>\n{body}</textarea>'


def _clearable_file_input(widget: Mapping[str, Any], context: Context) -> str | None:
    if widget.get("is_initial"):
        return None
    return (
        f'<input type="{_var(widget["type"], context)}" name="{_var(widget["name"], context)}"'
        f"{_attrs(widget['attrs'], context)}>"
    )


def _select(widget: Mapping[str, Any], context: Context) -> str | None:
    parts = [f'<select name="{_var(widget["name"], context)}"{_attrs(widget["attrs"], context)}>']
    for group_name, group_choices, _group_index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_var(group_name, context)}">')
        for option in group_choices:
            if option.get("template_name") != _OPTION_TEMPLATE:
                return None
            parts.append(
                f'\n  <option value="{_string(option["value"], context)}"{_attrs(option["attrs"], context)}>'
                f"{_var(option['label'], context)}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


_Renderer = Callable[[Mapping[str, Any], Context], str | None]
_FAST: dict[str, _Renderer] = {
    **dict.fromkeys(_INPUT_TEMPLATES, _input),
    f"{_WIDGETS}textarea.html": _textarea,
    f"{_WIDGETS}clearable_file_input.html": _clearable_file_input,
    f"{_WIDGETS}select.html": _select,
}


class FastWidgetRenderer(DjangoTemplates):
    """``FORM_RENDERER``: Django's templates renderer, the common widgets written in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        fast = _FAST.get(template_name)
        widget = context.get("widget") if fast is not None else None
        if fast is not None and isinstance(widget, Mapping):
            html = fast(widget, _context())
            if html is not None:
                return SafeString(html.strip())
        return super().render(template_name, context, request=request)


# Django's forms end each label with gettext(":") (``Form.label_suffix``), and Django's own Chinese
# catalog leaves it ASCII. Named here so this project's catalogs carry it: a Chinese label ends
# with the full-width colon ("结果：", not "结果:").
LABEL_SUFFIX = gettext_noop(":")
