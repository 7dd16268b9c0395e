"""Forms of the e-mail and phone channels. They check the shape of the input; the services decide
the rest."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tickets.models import CallDirection, ImapSecurity, Mailbox


class MailboxForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.EmailField(label=_("Address"), help_text=_("The address customers write to."))
    is_active = forms.BooleanField(label=pgettext_lazy("switched on", "Active"), required=False, initial=True)
    is_default = forms.BooleanField(
        label=_("Reply-to address"),
        required=False,
        help_text=_("Customers' replies to outgoing mail come to this address."),
    )
    imap_host = forms.CharField(label=_("IMAP server"), max_length=255, required=False)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(label=_("IMAP security"), choices=ImapSecurity.choices, initial=ImapSecurity.SSL)
    imap_username = forms.CharField(label=_("IMAP user name"), max_length=255, required=False)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave empty to keep the stored password."),
    )
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=255, initial="INBOX")
    sender_hourly_limit = forms.IntegerField(
        label=_("Messages per sender per hour"),
        min_value=1,
        max_value=10000,
        initial=20,
        help_text=_("Beyond this, a sender's messages are kept aside and open no request."),
    )

    @classmethod
    def for_mailbox(cls, mailbox: Mailbox) -> "MailboxForm":
        return cls(initial={name: getattr(mailbox, name) for name in cls.base_fields if name != "imap_password"})

    def values(self) -> dict[str, object]:
        return {name: value for name, value in self.cleaned_data.items() if name != "imap_password"}


class PhoneCallForm(forms.Form):
    # Rendered once per language and kept (dashboard_tags.field_row).
    constant_fields = ("direction", "minutes", "seconds", "summary")
    direction = forms.ChoiceField(label=_("Who called"), choices=CallDirection.choices, initial=CallDirection.INBOUND)
    minutes = forms.IntegerField(label=_("Minutes"), min_value=0, max_value=1440, initial=0)
    seconds = forms.IntegerField(label=_("Seconds"), min_value=0, max_value=59, initial=0)
    summary = forms.CharField(label=_("Summary"), max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))

    def duration_seconds(self) -> int:
        return int(self.cleaned_data["minutes"]) * 60 + int(self.cleaned_data["seconds"])
