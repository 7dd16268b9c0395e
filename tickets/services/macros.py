"""Macros: managing them, and applying one to a ticket as one service call with one event."""

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Membership, User
from aftersales.services.staff import staff_membership_required
from tickets import sla
from tickets.macro_text import MACRO_LANGUAGES, macro_reply_text
from tickets.models import FINAL_STATUSES, Macro, Message, Tag, Ticket, TicketPriority, TicketStatus
from tickets.notify import customer_language, notify_customer, notify_staff
from tickets.services.statuses import status_fields
from tickets.services.tickets import MAX_BODY_LENGTH
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb


def _may_edit(*, macro: Macro, actor: User) -> Membership:
    membership = staff_membership_required(actor=actor, merchant_id=macro.merchant_id)
    if macro.owner_id is None and not membership.is_supervisor:
        raise PermissionRefused(_("Only a supervisor or a merchant admin may change shared macros."))
    if macro.owner_id is not None and macro.owner_id != actor.pk:
        raise PermissionRefused(_("This is another agent's personal macro."))
    return membership


def _check_macro(macro: Macro) -> None:
    macro.name = macro.name.strip()
    if not macro.name:
        raise InvalidInput(_("Give the macro a name."), code="empty_name", extra={"field": "name"})
    if macro.set_status and macro.set_status not in TicketStatus.values:
        raise InvalidInput(_("Unknown status."), code="invalid_status", extra={"field": "set_status"})
    if macro.set_priority is not None and macro.set_priority not in TicketPriority.values:
        raise InvalidInput(_("Unknown priority."), code="invalid_priority", extra={"field": "set_priority"})
    for field in ("reply_zh_hans", "reply_en", "internal_note"):
        if len(getattr(macro, field)) > MAX_BODY_LENGTH:
            raise InvalidInput(_("The text is too long."), code="text_too_long", extra={"field": field})
    if (
        macro.assign_to_id is not None
        and not Membership.objects.filter(
            merchant_id=macro.merchant_id, user_id=macro.assign_to_id, is_active=True
        ).exists()
    ):
        raise InvalidInput(_("Unknown agent."), code="unknown_agent", extra={"field": "assign_to"})
    if not any(
        (
            macro.reply_zh_hans.strip(),
            macro.reply_en.strip(),
            macro.set_status,
            macro.set_priority is not None,
            macro.add_tags,
            macro.assign_to_actor,
            macro.assign_to_id,
            macro.internal_note.strip(),
        )
    ):
        raise InvalidInput(_("A macro needs at least one action."), code="empty_macro")
    if bool(macro.reply_zh_hans.strip()) != bool(macro.reply_en.strip()):
        raise InvalidInput(
            _("Write the reply in both languages, so every customer gets it in theirs."),
            code="reply_language_missing",
            extra={"field": "reply_en" if not macro.reply_en.strip() else "reply_zh_hans"},
        )


def macro_save(*, macro: Macro, actor: User) -> Macro:
    """Create or update a macro; a new personal macro belongs to its author."""
    if macro.pk is None and macro.owner_id is not None and macro.owner_id != actor.pk:
        raise PermissionRefused(_("A personal macro belongs to the agent who writes it."))
    _may_edit(macro=macro, actor=actor)
    _check_macro(macro)
    macro.add_tags = sorted({str(tag).strip()[:50] for tag in macro.add_tags or () if str(tag).strip()})
    try:
        with transaction.atomic():
            macro.save()
    except IntegrityError as exc:
        raise Conflict(
            _("A macro named “%(name)s” already exists.") % {"name": macro.name},
            code="name_taken",
            extra={"field": "name"},
        ) from exc
    return macro


def macro_delete(*, macro: Macro, actor: User) -> None:
    _may_edit(macro=macro, actor=actor)
    with transaction.atomic():
        Macro.objects.filter(pk=macro.pk).delete()


def macro_apply(*, macro: Macro, ticket: Ticket, actor: User) -> Ticket:
    """Apply every action of the macro to the ticket at once: the reply in the customer's language
    with its placeholders filled, the status, priority, tags, assignee and internal note; one
    event records them all and the macro's use is counted. A refused action changes nothing."""
    with transaction.atomic():
        ticket = (
            Ticket.objects.select_for_update(of=("self",))
            .select_related("customer", "merchant", "order", "assignee")
            .get(pk=ticket.pk)
        )
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        macro = Macro.objects.select_for_update(of=("self",)).get(pk=macro.pk)
        if macro.merchant_id != ticket.merchant_id or not macro.is_active:
            raise InvalidInput(_("Unknown macro."), code="unknown_macro", extra={"field": "macro"})
        if macro.owner_id is not None and macro.owner_id != actor.pk:
            raise PermissionRefused(_("This is another agent's personal macro."))
        if ticket.status in FINAL_STATUSES:
            raise TransitionNotAllowed(
                _("This ticket is %(status)s; it takes no more changes.") % {"status": ticket.get_status_display()}
            )
        now = timezone.now()
        data: dict[str, Any] = {"macro": macro.name, "macro_id": macro.pk}
        changed: list[str] = ["updated_at"]

        language = customer_language(ticket)
        reply_text = macro_reply_text(macro=macro, ticket=ticket, language=language, agent=actor)
        reply: Message | None = None
        if reply_text:
            reply = Message.objects.create(
                merchant_id=ticket.merchant_id,
                ticket=ticket,
                kind=Message.Kind.REPLY,
                author_user=actor,
                body=reply_text,
            )
            data["reply_language"] = language if language in MACRO_LANGUAGES else "en"
            sla.sla_on_public_reply(ticket, reply.created_at)
            if ticket.first_responded_at is None:
                ticket.first_responded_at = now
                changed.append("first_responded_at")

        target = macro.set_status or (TicketStatus.OPEN if reply and ticket.status == TicketStatus.NEW else "")
        if target and target != ticket.status:
            data["status"] = {"from": ticket.status, "to": target}
            changed += status_fields(ticket, target)

        if macro.set_priority is not None and macro.set_priority != ticket.priority:
            data["priority"] = {"from": ticket.priority, "to": macro.set_priority}
            ticket.priority = macro.set_priority
            changed.append("priority")

        assignee = actor if macro.assign_to_actor else macro.assign_to
        if assignee is not None and assignee.pk != ticket.assignee_id:
            staff_membership_required(actor=assignee, merchant_id=ticket.merchant_id)
            data["assignee"] = {"from": ticket.assignee_id, "to": assignee.pk, "to_name": str(assignee)}
            ticket.assignee = assignee
            changed.append("assignee")

        if macro.add_tags:
            before = set(ticket.tags.values_list("name", flat=True))
            added = [name for name in macro.add_tags if name not in before]
            if added:
                ticket.tags.add(*[Tag.objects.get_or_create(merchant_id=ticket.merchant_id, name=n)[0] for n in added])
                data["tags_added"] = added

        if macro.internal_note.strip():
            note = Message.objects.create(
                merchant_id=ticket.merchant_id,
                ticket=ticket,
                kind=Message.Kind.NOTE,
                author_user=actor,
                body=macro.internal_note.strip(),
            )
            data["note"] = note.body
            data["note_message_id"] = note.pk

        ticket.save(update_fields=changed)
        event_append(
            ticket, RoutingVerb.MACRO_APPLIED, actor_user=actor, data=data, public=reply is not None, message=reply
        )
        Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1, last_used_at=now)
        if reply is not None:
            notify_customer(
                ticket, "ticket_reply", {"reply": reply_text, "agent_name": actor.get_full_name() or actor.username}
            )
        if "assignee" in data and assignee is not None and assignee != actor:
            notify_staff(ticket, assignee, "ticket_assigned", {"assigned_by": str(actor)})
    return ticket
