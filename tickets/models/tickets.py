"""The case hub: every after-sales request is a Ticket, whatever its kind.

Returns and repairs hang their detailed workflow one-to-one off a Ticket and move its generic
status in the same transaction, so there is one queue, one timeline and one clock table.
"""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel
from aftersales.models import Deadline, MerchantOwnedModel
from tickets.system_texts import system_text


class TicketKind(models.TextChoices):
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")
    REFUND_ONLY = "refund_only", _("Refund only")
    REPAIR = "repair", _("Repair")
    SUPPORT = "support", _("Technical support")
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")


# The human number's prefix, by kind: RT-000123, SUP-000042, …
NUMBER_PREFIXES = {
    TicketKind.RETURN: "RT",
    TicketKind.EXCHANGE: "EX",
    TicketKind.REFUND_ONLY: "RF",
    TicketKind.REPAIR: "RP",
    TicketKind.SUPPORT: "SUP",
    TicketKind.COMPLAINT: "CP",
    TicketKind.INQUIRY: "INQ",
}


class TicketStatus(models.TextChoices):
    """Whose move it is. Waiting on the customer or a third party pauses SLA clocks."""

    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    WAITING_THIRD_PARTY = "waiting_third_party", _("Waiting on third party")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


S = TicketStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY, S.RESOLVED, S.CANCELLED}),
    S.OPEN: frozenset({S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY, S.RESOLVED, S.CANCELLED}),
    S.WAITING_CUSTOMER: frozenset({S.OPEN, S.WAITING_THIRD_PARTY, S.RESOLVED, S.CANCELLED}),
    S.WAITING_THIRD_PARTY: frozenset({S.OPEN, S.WAITING_CUSTOMER, S.RESOLVED, S.CANCELLED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
ACTIVE_STATUSES = (S.NEW, S.OPEN, S.WAITING_CUSTOMER, S.WAITING_THIRD_PARTY)
FINAL_STATUSES = (S.CLOSED, S.CANCELLED)
del S


class TicketPriority(models.IntegerChoices):
    # Integers, so that "most urgent first" is an index scan.
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("High")
    URGENT = 40, _("Urgent")


class TicketChannel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    STAFF = "staff", _("Staff")


class Team(MerchantOwnedModel):
    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="teams", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="teams", verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="team_unique_name")]

    def __str__(self) -> str:
        return self.name


class Tag(MerchantOwnedModel):
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class TicketNumberCounter(MerchantOwnedModel):
    """The last number handed out per merchant and prefix, bumped under the row's lock."""

    prefix = models.CharField(_("prefix"), max_length=8)
    last_value = models.PositiveBigIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("ticket number counter")
        verbose_name_plural = _("ticket number counters")
        constraints = [models.UniqueConstraint(fields=["merchant", "prefix"], name="ticketcounter_unique_prefix")]


class Ticket(MerchantOwnedModel):
    # Not fields: what the API's detail reads, set by tickets.api.views and returns.api.views.
    timeline: "list[TicketEvent]"
    deadline_list: "list[Deadline]"

    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20, choices=TicketKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=TicketStatus.choices, default=TicketStatus.NEW)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=10, choices=TicketChannel.choices)
    subject = models.CharField(_("subject"), max_length=200)
    # A subject the system gave the case, as a key and parameters (tickets.system_texts): shown in
    # each reader's language. Empty for a subject a person typed.
    system_subject = models.JSONField(_("subject as the system wrote it"), default=dict, blank=True)
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        "aftersales.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("order"),
    )
    order_lines = models.ManyToManyField(
        "aftersales.OrderLine", blank=True, related_name="tickets", verbose_name=_("order lines")
    )
    store = models.ForeignKey(
        "aftersales.Store",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("store"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets", verbose_name=_("team")
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets", verbose_name=_("tags"))
    sla_policy = models.ForeignKey(
        "tickets.SlaPolicy",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("SLA policy"),
    )
    # The earliest pending timer of the ticket, kept by the deadline services so that the queue
    # can sort and show a countdown without reading the deadline table per row.
    next_deadline_at = models.DateTimeField(_("next deadline"), null=True, blank=True)

    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    last_customer_message_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="ticket_unique_number"),
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=TicketKind.values), name="ticket_kind_valid"),
        ]
        indexes = [
            # The work queue: a merchant's active tickets, most urgent and then oldest first.
            models.Index(
                "merchant",
                models.F("priority").desc(),
                "created_at",
                "id",
                condition=Q(status__in=ACTIVE_STATUSES),
                name="ticket_queue_active",
            ),
            models.Index(fields=["merchant", "-created_at", "-id"], name="ticket_merchant_created"),
            models.Index(
                "merchant",
                "next_deadline_at",
                "id",
                condition=Q(status__in=ACTIVE_STATUSES),
                name="ticket_queue_deadline",
            ),
            # The KPI home's backlog (feedback.selectors.kpi): a merchant's active tickets counted by
            # kind and age, read from this index alone (an index-only scan), never the merchant's
            # closed history.
            models.Index(
                fields=["merchant", "kind", "created_at"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="ticket_backlog_active",
            ),
            models.Index(fields=["merchant", "assignee", "status"], name="ticket_merchant_assignee"),
            models.Index(fields=["merchant", "customer"], name="ticket_merchant_customer"),
            models.Index(fields=["merchant", "order"], name="ticket_merchant_order"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    def can_transition_to(self, status: str) -> bool:
        return status in TRANSITIONS[self.status]

    @property
    def display_subject(self) -> str:
        """The subject in the reader's language where the system gave it, else as typed."""
        return system_text(self.system_subject, self.subject) if self.system_subject else self.subject

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def accepts_customer_messages(self) -> bool:
        return self.status not in FINAL_STATUSES


class TicketEvent(MerchantOwnedModel):
    """The append-only timeline. Nothing here is ever updated or deleted."""

    class Verb(models.TextChoices):
        CREATED = "created", _("Created")
        CUSTOMER_MESSAGE = "customer_message", _("Customer wrote")
        REPLY = "reply", _("Replied")
        NOTE = "note", _("Internal note")
        ASSIGNED = "assigned", _("Assigned")
        STATUS_CHANGED = "status_changed", _("Status changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        ORDER_LINKED = "order_linked", _("Order linked")
        TAGS_CHANGED = "tags_changed", _("Tags changed")
        ESCALATED = "escalated", _("Escalated")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        REMINDER_SET = "reminder_set", _("Reminder set")
        REMINDER_DUE = "reminder_due", _("Reminder due")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket"))
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by staff member"),
    )
    actor_customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by customer"),
    )
    verb = models.CharField(_("what"), max_length=40)
    data = models.JSONField(_("details"), default=dict, blank=True)
    is_public = models.BooleanField(_("visible to the customer"), default=False)
    message = models.OneToOneField(
        "tickets.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="event",
        verbose_name=_("message"),
    )

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at", "id"], name="ticketevent_timeline")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.verb}"

    @property
    def actor_display(self) -> str:
        if self.actor_user_id:
            return str(self.actor_user)
        if self.actor_customer_id:
            return str(self.actor_customer)
        return str(_("System"))


class Message(MerchantOwnedModel):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer message")
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")
        # Staff's summary of a call (tickets.models.mail.PhoneCall): seen by staff only.
        PHONE = "phone", _("Phone call")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages", verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by staff member"),
    )
    author_customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by customer"),
    )
    body = models.TextField(_("message"))
    # A note the system wrote, as a key and parameters (tickets.system_texts); empty for a person's.
    system_body = models.JSONField(_("message as the system wrote it"), default=dict, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind not in (self.Kind.NOTE, self.Kind.PHONE)

    @property
    def display_body(self) -> str:
        """The text in the reader's language where the system wrote it, else as written."""
        return system_text(self.system_body, self.body) if self.system_body else self.body


# Where attachments' files live in the private storage; nothing else is written under it.
ATTACHMENT_DIR = "attachments"


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    # A random name: the customer's file name is kept in the row, never used as a path.
    suffix = PurePosixPath(filename).suffix.lower()
    return f"{ATTACHMENT_DIR}/{instance.merchant_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(MerchantOwnedModel):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket"))
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by staff member"),
    )
    uploaded_by_customer = models.ForeignKey(
        "aftersales.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by customer"),
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaPolicy(ConfigModel, MerchantOwnedModel):
    """Service-level targets. The first active policy, by position, that matches a ticket applies.

    An empty match list means "any". Targets are business minutes on the policy's calendar (or the
    merchant's default calendar). Editing a policy applies to tickets opened from then on.
    """

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="sla_policies", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"))
    is_active = models.BooleanField(_("active"), default=True)
    match_kinds = models.JSONField(_("kinds"), default=list, blank=True)
    match_priorities = models.JSONField(_("priorities"), default=list, blank=True)
    match_channels = models.JSONField(_("channels"), default=list, blank=True)
    match_customer_tiers = models.JSONField(_("customer tiers"), default=list, blank=True)
    match_stores = models.ManyToManyField("aftersales.Store", blank=True, related_name="+", verbose_name=_("stores"))
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business calendar"),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"), null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(_("next response (business minutes)"), null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"), null=True, blank=True)
    # "% of" is not a format string, but xgettext would take it for one.
    # xgettext:no-python-format
    warning_percent = models.PositiveSmallIntegerField(_("warn at (% of target)"), default=80)
    breach_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on breach, reassign to"),
    )
    breach_team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on breach, move to team"),
    )

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["merchant_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "position"], name="slapolicy_unique_position"),
            models.CheckConstraint(
                condition=Q(warning_percent__gte=1) & Q(warning_percent__lte=99), name="slapolicy_warning_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"

    def target_minutes(self, target: str) -> int | None:
        minutes: int | None = getattr(self, f"{target}_minutes")
        return minutes


class SlaBreach(MerchantOwnedModel):
    """A target missed, kept for reports: which policy, which target, and how late."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_breaches", verbose_name=_("ticket"))
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, related_name="breaches", verbose_name=_("SLA policy")
    )
    deadline = models.OneToOneField(
        "aftersales.Deadline", on_delete=models.CASCADE, related_name="breach", verbose_name=_("deadline")
    )
    target = models.CharField(_("target"), max_length=20, choices=SlaTarget.choices)
    target_minutes = models.PositiveIntegerField(_("target (minutes)"), null=True)
    due_at = models.DateTimeField(_("due"))
    breached_at = models.DateTimeField(_("breached"))
    met_at = models.DateTimeField(_("met late at"), null=True, blank=True)
    late_minutes = models.PositiveIntegerField(_("late by (business minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["-breached_at"]
        indexes = [models.Index(fields=["merchant", "-breached_at"], name="slabreach_merchant_time")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} breached {self.breached_at:%Y-%m-%d %H:%M}"
