"""What the API shows of a case, and what each action on a case takes.

Output serializers only read rows the selectors brought; input serializers check shapes and
leave every rule of the case (transitions, who may act) to ``tickets.services``.
"""

from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from aftersales.api.serializers import DeadlineOutputSerializer, OrderStoreSerializer
from aftersales.models import Customer, Order, OrderLine, Store, User
from aftersales.phones import try_normalize_phone
from tickets.models import (
    Attachment,
    Message,
    SlaPolicy,
    Tag,
    Team,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from tickets.services import MAX_BODY_LENGTH

# --- output --------------------------------------------------------------------------------------


class StaffRefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return str(user)


class CustomerRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "phone", "tier"]


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class TicketOrderRefSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="external_number", read_only=True)

    class Meta:
        model = Order
        fields = ["id", "number", "store"]


TICKET_FIELDS = [
    "id",
    "number",
    "kind",
    "status",
    "priority",
    "channel",
    "subject",
    "customer",
    "order",
    "store",
    "assignee",
    "team",
    "escalation_level",
    "tags",
    "created_at",
    "updated_at",
    "status_changed_at",
    "first_responded_at",
    "last_customer_message_at",
    "resolved_at",
    "closed_at",
    "sla_policy",
    "next_deadline_at",
]


class TicketOutputSerializer(serializers.ModelSerializer):
    """A ticket as a list shows it, and as every action on it answers."""

    customer = CustomerRefSerializer(read_only=True)
    order = TicketOrderRefSerializer(read_only=True, allow_null=True)
    assignee = StaffRefSerializer(read_only=True, allow_null=True)
    team = TeamRefSerializer(read_only=True, allow_null=True)
    tags: "serializers.SlugRelatedField[Tag]" = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="name"
    )

    class Meta:
        model = Ticket
        fields = TICKET_FIELDS

    def to_representation(self, instance: Ticket) -> dict[str, Any]:
        # A page of 50 tickets spent about 0.4 ms a row walking DRF's fields (nested serializers
        # and the choice and relation fields re-resolved per row). The declared fields above stay
        # the schema; this writes the same dict directly, and a test compares the two on every
        # field. A subclass that adds fields takes DRF's way.
        if type(self) is not TicketOutputSerializer:
            return super().to_representation(instance)
        return ticket_summary(instance, when=_WHEN)


# DRF's own field for the times, so that they read as DRF writes them (ISO 8601 in the current
# time zone, "Z" for UTC).
_WHEN = serializers.DateTimeField()
_TICKET_TIMES = (
    "created_at",
    "updated_at",
    "status_changed_at",
    "first_responded_at",
    "last_customer_message_at",
    "resolved_at",
    "closed_at",
)


def ticket_summary(ticket: Ticket, *, when: serializers.DateTimeField) -> dict[str, Any]:
    """``TicketOutputSerializer``'s dict of one ticket, key for key in ``TICKET_FIELDS`` order."""
    customer = ticket.customer
    order = ticket.order
    assignee = ticket.assignee
    team = ticket.team
    zone = timezone.get_current_timezone() if when is _WHEN and settings.USE_TZ else None
    times = {name: _time(when, getattr(ticket, name), zone) for name in _TICKET_TIMES}
    return {
        "id": ticket.pk,
        "number": str(ticket.number),
        "kind": ticket.kind,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "subject": str(ticket.subject),
        "customer": {
            "id": customer.pk,
            "name": str(customer.name),
            "email": str(customer.email),
            "phone": str(customer.phone),
            "tier": customer.tier,
        },
        "order": (
            {"id": order.pk, "number": str(order.external_number), "store": order.store_id}
            if order is not None
            else None
        ),
        "store": ticket.store_id,
        "assignee": (
            {"id": assignee.pk, "username": str(assignee.username), "name": str(assignee)}
            if assignee is not None
            else None
        ),
        "team": {"id": team.pk, "name": str(team.name)} if team is not None else None,
        "escalation_level": ticket.escalation_level,
        "tags": [str(tag.name) for tag in ticket.tags.all()],
        **times,
        "sla_policy": ticket.sla_policy_id,
        "next_deadline_at": _time(when, ticket.next_deadline_at, zone),
    }


def ticket_summaries_of_rows(rows: list[dict[str, Any]], tag_names: dict[int, list[str]]) -> list[dict[str, Any]]:
    """``ticket_summary`` of each row of ``tickets.selectors.ticket_rows_listed`` (a list's page,
    read as plain rows, not model instances), with each ticket's tag names: the same dicts, key for
    key (a test compares them with DRF's)."""
    when = _WHEN
    zone = timezone.get_current_timezone() if settings.USE_TZ else None
    summaries = []
    for row in rows:
        order_id, assignee_id, team_id = row["order__id"], row["assignee__id"], row["team__id"]
        if assignee_id is not None:
            # ``str(user)``: the full name, else the username (``User.__str__``).
            full_name = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
            assignee = {
                "id": assignee_id,
                "username": row["assignee__username"],
                "name": full_name or row["assignee__username"],
            }
        summaries.append(
            {
                "id": row["id"],
                "number": row["number"],
                "kind": row["kind"],
                "status": row["status"],
                "priority": row["priority"],
                "channel": row["channel"],
                "subject": row["subject"],
                "customer": {
                    "id": row["customer__id"],
                    "name": row["customer__name"],
                    "email": row["customer__email"],
                    "phone": row["customer__phone"],
                    "tier": row["customer__tier"],
                },
                "order": (
                    {"id": order_id, "number": row["order__external_number"], "store": row["order__store_id"]}
                    if order_id is not None
                    else None
                ),
                "store": row["store_id"],
                "assignee": assignee if assignee_id is not None else None,
                "team": {"id": team_id, "name": row["team__name"]} if team_id is not None else None,
                "escalation_level": row["escalation_level"],
                "tags": tag_names.get(row["id"], []),
                **{name: _time(when, row[name], zone) for name in _TICKET_TIMES},
                "sla_policy": row["sla_policy_id"],
                "next_deadline_at": _time(when, row["next_deadline_at"], zone),
            }
        )
    return summaries


def _time(when: serializers.DateTimeField, value: Any, zone: tzinfo | None = None) -> Any:
    """``when.to_representation(value)``; with ``zone`` (the current time zone, read once a
    ticket rather than once a time) an aware instant is written as DRF's ISO 8601 field writes
    it (``enforce_timezone`` then ``isoformat``, "Z" for UTC) at a tenth of its cost."""
    if value is None:
        return None
    if zone is not None and type(value) is datetime and value.tzinfo is not None:
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:  # DRF's field refuses it in its own words
            return when.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return when.to_representation(value)


class TicketOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "line_number", "sku", "name", "quantity", "unit_price", "discount_amount"]


class TicketOrderSummarySerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="external_number", read_only=True)
    store = OrderStoreSerializer(read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "store",
            "currency",
            "placed_at",
            "shipped_at",
            "delivered_at",
            "contact_email",
            "contact_phone",
        ]


class TicketEventOutputSerializer(serializers.ModelSerializer):
    actor_user = StaffRefSerializer(read_only=True, allow_null=True)
    actor_customer = serializers.IntegerField(source="actor_customer_id", read_only=True, allow_null=True)
    actor_name = serializers.CharField(source="actor_display", read_only=True)
    message = serializers.IntegerField(source="message_id", read_only=True, allow_null=True)

    class Meta:
        model = TicketEvent
        fields = [
            "id",
            "verb",
            "actor_user",
            "actor_customer",
            "actor_name",
            "data",
            "is_public",
            "message",
            "created_at",
        ]


class SlaPolicyOutputSerializer(serializers.ModelSerializer):
    match_stores: "serializers.PrimaryKeyRelatedField[Store]" = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )
    calendar: "serializers.StringRelatedField[Any]" = serializers.StringRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
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
        ]


class TicketDetailOutputSerializer(TicketOutputSerializer):
    """A ticket with its order, the lines it is about, and its whole timeline (internal events too:
    the API is for staff and integrations, never for customers)."""

    order = TicketOrderSummarySerializer(read_only=True, allow_null=True)  # type: ignore[assignment]  # a richer order than the list's; DRF fields may be overridden
    order_lines = TicketOrderLineSerializer(many=True, read_only=True)
    timeline = TicketEventOutputSerializer(many=True, read_only=True)
    deadlines = DeadlineOutputSerializer(source="deadline_list", many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [*TICKET_FIELDS, "order_lines", "timeline", "deadlines"]


class AttachmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "created_at"]


class MessageOutputSerializer(serializers.ModelSerializer):
    author_user = StaffRefSerializer(read_only=True, allow_null=True)
    author_customer = CustomerRefSerializer(read_only=True, allow_null=True)
    is_public = serializers.BooleanField(read_only=True)
    attachments = AttachmentOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "kind", "body", "is_public", "author_user", "author_customer", "attachments", "created_at"]


# --- input ---------------------------------------------------------------------------------------


def _attachments_field():
    return serializers.ListField(
        child=serializers.FileField(allow_empty_file=False),
        required=False,
        default=list,
        max_length=settings.ATTACHMENT_MAX_PER_MESSAGE,
        help_text=_("Photos, PDFs or videos; send the request as multipart/form-data to attach files."),
    )


class TicketCreateInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TicketKind.choices)
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=MAX_BODY_LENGTH, help_text=_("The customer's request, as they put it."))
    priority = serializers.ChoiceField(choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    customer = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text=_("The id of one of the merchant's customers.")
    )
    customer_email = serializers.EmailField(
        required=False, allow_blank=True, default="", help_text=_("Finds or creates the customer by e-mail.")
    )
    customer_phone = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=40, help_text=_("Finds or creates by phone.")
    )
    customer_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    order = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text=_("The id of the order the request is about; its customer is used when none is given."),
    )
    order_lines = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=200,
        help_text=_("Ids of the order's lines the request is about."),
    )
    attachments = _attachments_field()

    def validate_customer_phone(self, value: str) -> str:
        if not value:
            return ""
        normalized = try_normalize_phone(value)
        if normalized is None:
            raise serializers.ValidationError(_("Enter a valid phone number."))
        return normalized

    def validate(self, attrs):
        if not (attrs.get("customer") or attrs["customer_email"] or attrs["customer_phone"] or attrs.get("order")):
            raise serializers.ValidationError(
                _("Say who the customer is: a customer id, an e-mail address or phone number, or an order.")
            )
        if attrs["order_lines"] and not attrs.get("order"):
            raise serializers.ValidationError({"order_lines": _("Order lines need their order.")})
        return attrs


class MessageCreateInputSerializer(serializers.Serializer):
    class Kind:
        REPLY = Message.Kind.REPLY.value
        NOTE = Message.Kind.NOTE.value
        CHOICES = [(REPLY, Message.Kind.REPLY.label), (NOTE, Message.Kind.NOTE.label)]

    kind = serializers.ChoiceField(choices=Kind.CHOICES, help_text=_("reply: the customer is told; note: staff only."))
    body = serializers.CharField(max_length=MAX_BODY_LENGTH)
    status = serializers.ChoiceField(
        choices=TicketStatus.choices,
        required=False,
        help_text=_("With a reply only: the status the ticket moves to (a new ticket becomes open by default)."),
    )
    attachments = _attachments_field()

    def validate(self, attrs):
        if attrs.get("status") and attrs["kind"] != self.Kind.REPLY:
            raise serializers.ValidationError({"status": _("Only a reply can change the status.")})
        return attrs


class TicketAssignInputSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(
        allow_null=True, min_value=1, help_text=_("A staff member's user id; null leaves the ticket unassigned.")
    )
    team = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, help_text=_("A team's id; null or absent: none.")
    )


class TicketStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TicketStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class TicketPriorityInputSerializer(serializers.Serializer):
    priority = serializers.ChoiceField(choices=TicketPriority.choices)


class TicketTagsInputSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50),
        allow_empty=True,
        max_length=30,
        help_text=_("The ticket's whole set of tags; tags not yet known are created."),
    )
