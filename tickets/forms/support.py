"""Forms of routing rules, team assignment, agents, macros, merge, links and pending close. They
check the shape of the input; the services decide the rest."""

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from aftersales.models import BusinessCalendar, Customer, Merchant, User
from aftersales.selectors import staff_of, stores_of
from tickets.models import (
    AgentStatus,
    AssignmentStrategy,
    Macro,
    RoutingRule,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from tickets.selectors import teams_of
from tickets.selectors.routing import calendars_of
from tickets.selectors.tickets import sla_policies_of

LIST_HELP = _("Separate them with commas.")


class CommaListField(forms.CharField):
    """A comma-separated list (either the ASCII or the Chinese comma), kept as a list of names."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("help_text", LIST_HELP)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(str(item) for item in value)
        return value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        names = [part.strip()[:50] for part in text.replace("，", ",").split(",")]
        return list(dict.fromkeys(name for name in names if name))


def _checkboxes(choices: Any, label: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any."),
    )


class RoutingRuleForm(forms.ModelForm):
    match_kinds = _checkboxes(TicketKind.choices, _("Kinds"))
    match_channels = _checkboxes(TicketChannel.choices, _("Channels"))
    match_customer_tiers = _checkboxes(Customer.Tier.choices, _("Customer tiers"))
    match_languages = _checkboxes(settings.LANGUAGES, _("Customer languages"))
    match_tags = CommaListField(label=_("Has any of the tags"))
    match_keywords = CommaListField(
        label=_("Keywords in subject or message"),
        help_text=_("Any one of them, ignoring case; separate them with commas."),
    )
    add_tags = CommaListField(label=_("Add tags"))

    class Meta:
        model = RoutingRule
        fields = [
            "name",
            "position",
            "is_active",
            "continue_after",
            "match_kinds",
            "match_channels",
            "match_customer_tiers",
            "match_languages",
            "match_stores",
            "min_order_value",
            "max_order_value",
            "match_tags",
            "match_keywords",
            "set_team",
            "set_priority",
            "add_tags",
            "set_sla_policy",
            "set_assignee",
        ]
        widgets = {"match_stores": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.merchant = merchant
        self.fields["position"].required = False
        self.fields["position"].help_text = _("Rules run from the lowest position up. Empty: after the last rule.")
        cast("forms.ModelMultipleChoiceField[Any]", self.fields["match_stores"]).queryset = stores_of(merchant)
        self.fields["match_stores"].help_text = _("None ticked: any.")
        # "Leave as it is" rather than Django's "---------": an empty action keeps what the ticket has.
        team = cast("forms.ModelChoiceField[Any]", self.fields["set_team"])
        team.queryset = teams_of(merchant)
        team.empty_label = _("Leave as it is")
        sla_policy = cast("forms.ModelChoiceField[Any]", self.fields["set_sla_policy"])
        sla_policy.queryset = sla_policies_of(merchant)
        sla_policy.empty_label = _("Leave as it is")
        priority = cast(forms.TypedChoiceField, self.fields["set_priority"])
        priority.choices = [("", _("Leave as it is")), *TicketPriority.choices]
        assignee = cast("forms.ModelChoiceField[Any]", self.fields["set_assignee"])
        assignee.empty_label = _("The team's auto-assignment")
        assignee.queryset = User.objects.filter(memberships__merchant=merchant, memberships__is_active=True).order_by(
            "username"
        )

    def clean_position(self) -> int:
        return self.cleaned_data.get("position") or 0


class TeamAssignmentForm(forms.Form):
    auto_assign = forms.BooleanField(label=_("Assign new tickets automatically"), required=False)
    strategy = forms.ChoiceField(label=_("Strategy"), choices=AssignmentStrategy.choices)
    complaint_weight = forms.IntegerField(
        label=_("Load of one complaint"),
        min_value=1,
        max_value=100,
        initial=1,
        help_text=_("How many ordinary tickets one open complaint counts as."),
    )
    repair_weight = forms.IntegerField(label=_("Load of one repair"), min_value=1, max_value=100, initial=1)


class AgentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=AgentStatus.choices)
    hand_back = forms.BooleanField(
        label=_("Hand my open tickets back to the team"),
        required=False,
        help_text=_("When away or offline: the team's available agents take them over."),
    )


class AgentProfileForm(forms.Form):
    capacity = forms.IntegerField(label=_("Capacity"), min_value=0, max_value=500)
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any."),
    )
    kinds = _checkboxes(TicketKind.choices, _("Ticket kinds"))
    product_categories = CommaListField(
        label=_("Product categories"), help_text=_("Empty: any. Separate them with commas.")
    )
    shift_calendar: "forms.ModelChoiceField[BusinessCalendar]" = forms.ModelChoiceField(
        label=_("Shift calendar"), queryset=None, required=False, empty_label=_("The team's or the merchant's")
    )

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ModelChoiceField[Any]", self.fields["shift_calendar"]).queryset = calendars_of(merchant)


class MacroForm(forms.ModelForm):
    personal = forms.BooleanField(label=_("Only for me"), required=False)
    add_tags = CommaListField(label=_("Add tags"))

    class Meta:
        model = Macro
        fields = [
            "name",
            "is_active",
            "reply_zh_hans",
            "reply_en",
            "set_status",
            "set_priority",
            "add_tags",
            "assign_to_actor",
            "assign_to",
            "internal_note",
        ]
        widgets = {
            "reply_zh_hans": forms.Textarea(attrs={"rows": 4}),
            "reply_en": forms.Textarea(attrs={"rows": 4}),
            "internal_note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, merchant: Merchant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.merchant = merchant
        placeholders = _(
            "Placeholders: {customer_name}, {ticket_number}, {ticket_subject}, {order_number}, {agent_name}, "
            "{merchant_name}."
        )
        self.fields["reply_zh_hans"].help_text = placeholders
        self.fields["reply_en"].help_text = placeholders
        status = cast(forms.ChoiceField, self.fields["set_status"])
        status.choices = [("", _("Leave as it is")), *TicketStatus.choices]
        priority = cast(forms.TypedChoiceField, self.fields["set_priority"])
        priority.choices = [("", _("Leave as it is")), *TicketPriority.choices]
        assign_to = cast("forms.ModelChoiceField[Any]", self.fields["assign_to"])
        assign_to.empty_label = _("Leave as it is")
        assign_to.queryset = User.objects.filter(pk__in=staff_of(merchant).values("user_id")).order_by("username")
        self.fields["personal"].initial = self.instance.owner_id is not None

    def validate_unique(self) -> None:
        # The owner is set by the view after validation; the service answers a clash.
        return


class ApplyMacroForm(forms.Form):
    macro = forms.IntegerField(label=_("Macro"), widget=forms.Select)


class MergeForm(forms.Form):
    constant_fields = ("target",)  # rendered once per language (dashboard_tags.field_row)
    target = forms.CharField(
        label=_("Merge this ticket into"),
        max_length=20,
        help_text=_("The number of the ticket to keep, e.g. SUP-000123."),
    )


class LinkForm(forms.Form):
    constant_fields = ("other", "kind")  # rendered once per language (dashboard_tags.field_row)
    other = forms.CharField(label=_("Ticket number"), max_length=20)
    kind = forms.ChoiceField(
        label=_("It is"),
        choices=[
            ("related", _("related to this one")),
            ("parent", _("the parent of this one")),
            ("child", _("a child of this one")),
        ],
    )


class PendingCloseForm(forms.Form):
    days = forms.IntegerField(label=_("Close after (days)"), min_value=1, max_value=90)


class SupportSettingsForm(forms.Form):
    reopen_window_days = forms.IntegerField(
        label=_("Reopen window (days)"),
        min_value=0,
        max_value=90,
        help_text=_(
            "A customer message this many days or less after resolution reopens the ticket; "
            "a later one opens a new ticket linked to it."
        ),
    )
    duplicate_window_days = forms.IntegerField(label=_("Duplicate window (days)"), min_value=0, max_value=90)
    pending_close_days = forms.IntegerField(label=_("Pending close after (days)"), min_value=1, max_value=90)
