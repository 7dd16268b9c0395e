"""Forms of the customer portal. They only shape the input; the services decide what is allowed
(the order lookup, the code, what a file really is)."""

import re
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.models import Order, OrderLine
from aftersales.selectors import order_lines_of
from aftersales.services.portal import CODE_DIGITS
from tickets.models import TicketKind
from tickets.upload_fields import FILE_ERROR_CODES, MultipleFileField

# What a customer may open from the portal for now; returns and repairs get their own forms.
PORTAL_KINDS = (
    (TicketKind.SUPPORT, _("Help with a product"), _("Something does not work or you need help using it.")),
    (TicketKind.COMPLAINT, _("Complaint"), _("You are not happy with the product, the delivery or our service.")),
    (TicketKind.INQUIRY, _("Question"), _("Anything else about this order.")),
)


class ShopCodeForm(forms.Form):
    shop = forms.SlugField(
        label=_("Shop code"),
        max_length=60,
        help_text=_("You find it in the link or the e-mail the shop sent you."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def clean_shop(self):
        return self.cleaned_data["shop"].lower()


class OrderLookupForm(forms.Form):
    order_number = forms.CharField(
        label=_("Order number"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )
    contact = forms.CharField(
        label=_("E-mail or phone number"),
        max_length=254,
        help_text=_("The one you gave when you placed the order. We send a one-time code there."),
        widget=forms.TextInput(attrs={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"}),
    )


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9 ]*",
                "maxlength": "20",
            }
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = gettext("The %(digits)s digits from the message we sent you.") % {
            "digits": CODE_DIGITS
        }

    def clean_code(self):
        # People paste codes with spaces ("123 456"); those are not part of the code.
        code = re.sub(r"\s+", "", self.cleaned_data["code"])
        if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", code):
            raise forms.ValidationError(_("Enter the %(digits)s digits of the code.") % {"digits": CODE_DIGITS})
        return code


def _photos_field() -> MultipleFileField:
    return MultipleFileField(
        label=_("Photos or documents"),
        help_text=_("Photos (JPG, PNG, GIF, WebP, HEIC), PDF or short videos."),
    )


class OrderLineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, line: OrderLine) -> str:
        return _("%(name)s × %(quantity)s") % {"name": line.name, "quantity": line.quantity}


class PortalTicketForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you need?"),
        choices=[(kind.value, label) for kind, label, _help in PORTAL_KINDS],
        widget=forms.RadioSelect,
        initial=TicketKind.SUPPORT.value,
    )
    order_lines = OrderLineChoiceField(
        label=_("Which items is it about?"),
        queryset=OrderLine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty if it is about the whole order."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, help_text=_("A few words, e.g. “Zip is broken”."))
    description = forms.CharField(
        label=_("Describe the problem"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    photos = _photos_field()

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Any]", self.fields["order_lines"]).queryset = order_lines_of(order).order_by("id")

    def kind_options(self) -> list[tuple]:
        """Each radio button with the sentence that explains it."""
        explanations = {kind.value: help_text for kind, _label, help_text in PORTAL_KINDS}
        return [(radio, explanations[radio.data["value"]]) for radio in self["kind"]]


class PortalReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your message"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    photos = _photos_field()


# Where a service's refusal belongs on a form: its ``extra["field"]``, else the files' field for
# refusals about files, else the top of the form.
SERVICE_FIELD_NAMES = {"body": "description", "subject": "subject", "order_lines": "order_lines", "kind": "kind"}


def service_error_field(form: forms.Form, exc) -> str | None:
    field = exc.extra.get("field")
    for name in (field, SERVICE_FIELD_NAMES.get(field)):
        if name and name in form.fields:
            return name
    if exc.code in FILE_ERROR_CODES and "photos" in form.fields:
        return "photos"
    return None
