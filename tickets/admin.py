"""Cases in the back office. Status, number and timestamps are the state machine's: they change
only through the services (dashboard and API). What the operator may edit here (priority,
assignee and team, tags) is saved through those same services too, with the operator as actor.
The timeline is append-only, so events, messages and attachments are shown and never edited or
deleted here."""

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from aftersales.admin import BigTableAdmin, ReadOnlyAdmin
from aftersales.exceptions import ApplicationError
from aftersales.models import Customer, Membership
from aftersales.services.staff import VIA_ADMIN

# Routing, assignment, macros and links register themselves from their own module.
from tickets import admin_support  # noqa: F401
from tickets.models import (
    Attachment,
    Email,
    Mailbox,
    Message,
    PhoneCall,
    SlaBreach,
    SlaPolicy,
    Tag,
    Team,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketNumberCounter,
    TicketPriority,
)
from tickets.services import ticket_assign, ticket_change_priority, ticket_set_tags


class TimelineInline(admin.TabularInline):
    """Read-only rows of the ticket's history."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TicketEventInline(TimelineInline):
    model = TicketEvent
    fields = ("created_at", "verb", "actor", "is_public", "data")
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor_user", "actor_customer")

    @admin.display(description=_("by"))
    def actor(self, event: TicketEvent) -> str:
        return event.actor_display


class MessageInline(TimelineInline):
    model = Message
    fields = ("created_at", "kind", "author", "body")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author_user", "author_customer")

    @admin.display(description=_("by"))
    def author(self, message: Message) -> str:
        return str(message.author_user or message.author_customer or "")


class TicketAdminForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ("priority", "assignee", "team", "tags")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        merchant_id = self.instance.merchant_id
        if "team" in self.fields:
            self.fields["team"].queryset = Team.objects.filter(merchant_id=merchant_id)
        if "tags" in self.fields:
            self.fields["tags"].queryset = Tag.objects.filter(merchant_id=merchant_id)

    def clean_assignee(self):
        assignee = self.cleaned_data.get("assignee")
        if (
            assignee is not None
            and not Membership.objects.filter(
                user=assignee, merchant_id=self.instance.merchant_id, is_active=True
            ).exists()
        ):
            raise forms.ValidationError(_("The assignee must be active staff of this ticket's merchant."))
        return assignee


@admin.register(Ticket)
class TicketAdmin(BigTableAdmin):
    form = TicketAdminForm
    list_display = ("number", "subject", "kind", "status", "priority", "customer", "assignee", "created_at", "merchant")
    list_filter = ("status", "kind", "priority", "channel", "merchant")
    list_select_related = ("customer", "assignee", "merchant")
    search_fields = ("=number", "subject", "=customer__email", "=customer__phone", "=order__external_number")
    date_hierarchy = "created_at"
    autocomplete_fields = ("assignee", "tags")
    readonly_fields = (
        "merchant",
        "number",
        "kind",
        "status",
        "channel",
        "subject",
        "customer",
        "order",
        "store",
        "escalation_level",
        "created_at",
        "updated_at",
        "status_changed_at",
        "first_responded_at",
        "last_customer_message_at",
        "resolved_at",
        "closed_at",
    )
    fieldsets = (
        (None, {"fields": ("merchant", "number", "kind", "status", "channel", "subject")}),
        (_("Who"), {"fields": ("customer", "order", "store", "assignee", "team", "priority", "tags")}),
        (
            _("Times"),
            {
                "fields": (
                    "escalation_level",
                    "created_at",
                    "updated_at",
                    "status_changed_at",
                    "first_responded_at",
                    "last_customer_message_at",
                    "resolved_at",
                    "closed_at",
                )
            },
        ),
    )
    inlines = (MessageInline, TicketEventInline)

    def has_add_permission(self, request):
        # A case is opened by ``ticket_create``: it numbers it, writes the first message and event.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A change the services refuse rolls the whole save back and comes back as a message."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        """Each edited field goes through the service the dashboard calls, with the operator as
        actor: it locks the ticket, writes only its own columns, appends its event (marked
        ``via: admin``) and tells whom it tells (an assignee learns of the assignment). A refusal
        raises, and ``changeform_view`` rolls back every change of this save."""
        ticket = Ticket.objects.get(pk=obj.pk)
        data = form.cleaned_data
        if "priority" in form.changed_data:
            ticket = ticket_change_priority(ticket=ticket, actor=request.user, priority=data["priority"], via=VIA_ADMIN)
        if "assignee" in form.changed_data or "team" in form.changed_data:
            ticket = ticket_assign(
                ticket=ticket, actor=request.user, assignee=data["assignee"], team=data["team"], via=VIA_ADMIN
            )
        if "tags" in form.changed_data:
            ticket_set_tags(ticket=ticket, actor=request.user, names=[tag.name for tag in data["tags"]], via=VIA_ADMIN)

    def save_related(self, request, form, formsets, change):
        # The inlines are read-only: saving them writes nothing, but the change message reads them.
        # The tags were set by ``ticket_set_tags`` in ``save_model``: no ``form.save_m2m()`` here.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    fields = (
        "merchant",
        "ticket",
        "created_at",
        "verb",
        "actor_user",
        "actor_customer",
        "is_public",
        "data",
        "message",
    )
    readonly_fields = fields
    list_display = ("created_at", "ticket", "verb", "actor_user", "actor_customer", "is_public", "merchant")
    list_filter = ("verb", "is_public", "merchant")
    list_select_related = ("ticket", "actor_user", "actor_customer", "merchant")
    search_fields = ("=ticket__number",)
    date_hierarchy = "created_at"


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    """What was said stays as it was said: the customer and the next agent read the same words."""

    fields = ("merchant", "ticket", "created_at", "kind", "author_user", "author_customer", "body")
    readonly_fields = fields
    list_display = ("created_at", "ticket", "kind", "author_user", "author_customer", "merchant")
    list_filter = ("kind", "merchant")
    list_select_related = ("ticket", "author_user", "author_customer", "merchant")
    search_fields = ("=ticket__number",)
    date_hierarchy = "created_at"


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    # No link to the file: attachments are private and are served only by the views that check access.
    fields = (
        "merchant",
        "ticket",
        "message",
        "original_name",
        "content_type",
        "size",
        "sha256",
        "uploaded_by_user",
        "uploaded_by_customer",
        "created_at",
    )
    readonly_fields = fields
    list_display = ("created_at", "original_name", "content_type", "size", "ticket", "merchant")
    list_filter = ("content_type", "merchant")
    list_select_related = ("ticket", "merchant")
    search_fields = ("=ticket__number", "original_name", "=sha256")
    date_hierarchy = "created_at"


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant")
    list_filter = ("merchant",)
    list_select_related = ("merchant",)
    search_fields = ("name", "merchant__slug")
    autocomplete_fields = ("members",)


@admin.register(Tag)
class TagAdmin(BigTableAdmin):
    list_display = ("name", "merchant")
    list_filter = ("merchant",)
    list_select_related = ("merchant",)
    search_fields = ("name",)


@admin.register(TicketNumberCounter)
class TicketNumberCounterAdmin(ReadOnlyAdmin):
    fields = ("merchant", "prefix", "last_value", "updated_at")
    readonly_fields = fields
    list_display = ("merchant", "prefix", "last_value", "updated_at")
    list_filter = ("merchant",)
    list_select_related = ("merchant",)


def _checkboxes(choices, *, label, coerce=str):
    return forms.TypedMultipleChoiceField(
        choices=choices,
        coerce=coerce,
        required=False,
        label=label,
        help_text=_("None ticked means any."),
        widget=forms.CheckboxSelectMultiple,
    )


class SlaPolicyAdminForm(forms.ModelForm):
    # The match lists are JSON in the table; here they are the choices they can hold.
    match_kinds = _checkboxes(TicketKind.choices, label=_("kinds"))
    match_priorities = _checkboxes(TicketPriority.choices, label=_("priorities"), coerce=int)
    match_channels = _checkboxes(TicketChannel.choices, label=_("channels"))
    match_customer_tiers = _checkboxes(Customer.Tier.choices, label=_("customer tiers"))

    class Meta:
        model = SlaPolicy
        fields = (
            "merchant",
            "name",
            "position",
            "is_active",
            "match_kinds",
            "match_priorities",
            "match_channels",
            "match_customer_tiers",
            "match_stores",
            "calendar",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
            "warning_percent",
            "breach_assignee",
            "breach_team",
        )

    def clean(self):
        cleaned = super().clean()
        merchant = cleaned.get("merchant")
        if merchant is None:
            return cleaned
        for name in ("calendar", "breach_team"):
            value = cleaned.get(name)
            if value is not None and value.merchant_id != merchant.pk:
                self.add_error(name, _("Pick one of this merchant's own."))
        if any(store.merchant_id != merchant.pk for store in cleaned.get("match_stores") or ()):
            self.add_error("match_stores", _("Pick one of this merchant's own."))
        assignee = cleaned.get("breach_assignee")
        if assignee is not None and not Membership.objects.filter(user=assignee, merchant=merchant).exists():
            self.add_error("breach_assignee", _("The assignee must be staff of this merchant."))
        return cleaned


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyAdminForm
    list_display = (
        "position",
        "name",
        "is_active",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
        "merchant",
    )
    list_display_links = ("position", "name")
    list_filter = ("is_active", "merchant")
    list_select_related = ("merchant",)
    search_fields = ("name", "merchant__slug")
    autocomplete_fields = ("breach_assignee",)
    filter_horizontal = ("match_stores",)
    fieldsets = (
        (None, {"fields": ("merchant", "name", "position", "is_active")}),
        (
            _("Applies to"),
            {"fields": ("match_kinds", "match_priorities", "match_channels", "match_customer_tiers", "match_stores")},
        ),
        (
            _("Targets (business minutes)"),
            {
                "fields": (
                    "calendar",
                    "first_response_minutes",
                    "next_response_minutes",
                    "resolution_minutes",
                    "warning_percent",
                )
            },
        ),
        (_("On breach"), {"fields": ("breach_assignee", "breach_team")}),
    )


@admin.register(SlaBreach)
class SlaBreachAdmin(ReadOnlyAdmin):
    fields = (
        "merchant",
        "ticket",
        "policy",
        "target",
        "target_minutes",
        "due_at",
        "breached_at",
        "met_at",
        "late_minutes",
    )
    readonly_fields = fields
    list_display = ("breached_at", "ticket", "target", "due_at", "met_at", "late_minutes", "policy", "merchant")
    list_filter = ("target", "merchant")
    list_select_related = ("ticket", "policy", "merchant")
    search_fields = ("=ticket__number",)
    date_hierarchy = "breached_at"


# The knowledge base's and complaints' back office live in modules of their own; importing them
# registers them.
import tickets.admin_complaints  # noqa: E402
import tickets.admin_knowledge  # noqa: E402, F401

# --- e-mail and phone calls ---------------------------------------------------------------------


class MailboxAdminForm(forms.ModelForm):
    # Never shown back; left empty, the stored password stays.
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the stored password."),
    )

    class Meta:
        model = Mailbox
        fields = (
            "merchant",
            "name",
            "address",
            "is_active",
            "is_default",
            "imap_host",
            "imap_port",
            "imap_security",
            "imap_username",
            "imap_password",
            "imap_folder",
            "sender_hourly_limit",
        )

    def _get_validation_exclusions(self):
        # The one-reply-to-address constraint is kept by save_model (the new one takes over), so
        # it is not a reason to refuse the form.
        return {*super()._get_validation_exclusions(), "is_default"}

    def clean_imap_password(self):
        password = self.cleaned_data["imap_password"]
        if not password and self.instance.pk:
            return Mailbox.objects.get(pk=self.instance.pk).imap_password
        return password


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxAdminForm
    list_display = ("name", "address", "merchant", "is_active", "is_default", "last_fetch_at", "last_fetch_outcome")
    list_filter = ("is_active", "last_fetch_outcome", "last_error_reason")
    search_fields = ("name", "address", "merchant__name")
    list_select_related = ("merchant",)
    readonly_fields = (
        "inbound_token",
        "last_fetch_at",
        "last_fetch_outcome",
        "last_fetch_count",
        "last_error_reason",
        "last_error",
    )

    def save_model(self, request, obj, form, change):
        # One reply-to address per merchant (a constraint): the new one takes over, in one transaction.
        with transaction.atomic():
            if obj.is_default:
                others = Mailbox.objects.filter(merchant_id=obj.merchant_id, is_default=True).exclude(pk=obj.pk)
                others.update(is_default=False)
            super().save_model(request, obj, form, change)


@admin.register(Email)
class EmailAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "direction", "sender", "recipient", "subject", "disposition", "ticket")
    list_filter = ("direction", "disposition")
    search_fields = ("message_id", "sender", "subject")
    list_select_related = ("ticket",)
    exclude = ("html",)


@admin.register(PhoneCall)
class PhoneCallAdmin(ReadOnlyAdmin):
    list_display = ("called_at", "ticket", "direction", "duration_seconds", "phone_number", "entered_by")
    list_filter = ("direction",)
    list_select_related = ("ticket", "entered_by")
