"""Every write to a case. Each function locks the ticket, checks, writes, appends its event and
queues its notifications in one transaction; a refusal raises before anything is written."""

import logging
import posixpath
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales import timers
from aftersales.compiled import CompiledRead, CompiledUpdate
from aftersales.exceptions import InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import Customer, Deadline, Merchant, Order, OrderLine, User
from aftersales.services.deadlines import deadline_cancel, deadline_schedule
from aftersales.services.staff import VIA_ADMIN, back_office_operator_required, staff_membership_required
from tickets import hooks, sla
from tickets.attachments import checked_upload
from tickets.deadline_kinds import REMINDER_KIND
from tickets.models import (
    ATTACHMENT_DIR,
    NUMBER_PREFIXES,
    Attachment,
    Message,
    Tag,
    Team,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketNumberCounter,
    TicketPriority,
    TicketStatus,
)
from tickets.notify import customer_language, notify_customer, notify_staff
from tickets.services.closing import PENDING_CLOSE_KIND, follow_up_link, register_closing_handlers, reopen_window_passed
from tickets.services.mail_out import mail_reply_thread
from tickets.services.routing import ticket_route
from tickets.services.statuses import status_fields
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

Verb = TicketEvent.Verb
MAX_BODY_LENGTH = 20000
# A file no attachment row names is an orphan only once no transaction can still be writing its row.
ORPHAN_FILE_MIN_AGE = timedelta(days=1)
ORPHAN_LOOKUP_BATCH = 500

logger = logging.getLogger(__name__)


# --- helpers ------------------------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _staff_required(*, actor: User, ticket: Ticket, via: str) -> None:
    """A member of the ticket's merchant staff; through the back office (``via=VIA_ADMIN``), an
    operator who may change tickets there."""
    if via == VIA_ADMIN:
        back_office_operator_required(actor=actor, permission="tickets.change_ticket")
    elif via:
        raise ValueError(f"unknown via {via!r}")  # a caller's mistake, not a user's
    else:
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)


def _with_via(data: dict[str, Any], via: str) -> dict[str, Any]:
    return {**data, "via": via} if via else data


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise InvalidInput(_("Write a message first."), code="empty_message", extra={"field": "body"})
    if len(body) > MAX_BODY_LENGTH:
        raise InvalidInput(
            _("The message is too long (at most %(limit)s characters).") % {"limit": MAX_BODY_LENGTH},
            code="message_too_long",
            extra={"field": "body"},
        )
    return body


def _check_files(files: Sequence["UploadedFile[bytes]"]) -> list[tuple["UploadedFile[bytes]", str, str]]:
    if len(files) > settings.ATTACHMENT_MAX_PER_MESSAGE:
        raise InvalidInput(
            _("At most %(limit)s files per message.") % {"limit": settings.ATTACHMENT_MAX_PER_MESSAGE},
            code="too_many_attachments",
        )
    return [checked_upload(upload) for upload in files]


def _store_files(
    ticket: Ticket,
    message: Message,
    checked: Sequence[tuple["UploadedFile[bytes]", str, str]],
    *,
    user: User | None = None,
    customer: Customer | None = None,
) -> list[Attachment]:
    """Write the files, removing them again if the transaction around us fails."""
    stored: list[Attachment] = []
    try:
        for upload, content_type, sha256 in checked:
            attachment = Attachment(
                merchant_id=ticket.merchant_id,
                ticket=ticket,
                message=message,
                original_name=(upload.name or "file")[:255],
                content_type=content_type,
                size=upload.size or 0,
                sha256=sha256,
                uploaded_by_user=user,
                uploaded_by_customer=customer,
            )
            attachment.file.save(upload.name or "file", upload, save=False)
            attachment.save()
            stored.append(attachment)
    except BaseException:
        for attachment in stored:
            attachment.file.delete(save=False)
        raise
    return stored


def _set_status(
    ticket: Ticket,
    status: str,
    *,
    actor_user: User | None = None,
    actor_customer: Customer | None = None,
    note: str = "",
) -> list[str]:
    """Move the (locked) ticket; return the fields changed. Refuses what the table does not allow."""
    previous = ticket.status
    changed = status_fields(ticket, status)
    data = {"from": previous, "to": status}
    if note:
        data["note"] = note
    event_append(
        ticket,
        Verb.STATUS_CHANGED,
        actor_user=actor_user,
        actor_customer=actor_customer,
        data=data,
        public=True,
    )
    hooks.status_changed(ticket, previous, status)
    return changed


def ticket_number_allocate(*, merchant: Merchant, kind: str) -> str:
    """The next human number for the merchant and kind, e.g. SUP-000124.

    The counter row is bumped with an UPDATE, which holds its lock until our transaction ends,
    so two creations never read the same value; a rolled-back creation leaves a gap, never a twin.
    """
    prefix = NUMBER_PREFIXES[TicketKind(kind)]
    value = _counter_bump(merchant.pk, prefix)
    if value is None:
        # The merchant's first case of this kind: the row appears once (unique on merchant and
        # prefix; a concurrent first creation waits on its insert), then the bump takes its lock.
        TicketNumberCounter.objects.get_or_create(merchant=merchant, prefix=prefix)
        value = _counter_bump(merchant.pk, prefix)
    return f"{prefix}-{value:06d}"


def _counters(merchant_id: int, prefix: str) -> QuerySet[TicketNumberCounter]:
    return TicketNumberCounter.objects.filter(merchant_id=merchant_id, prefix=prefix)


# Every new case bumps its counter: the two statements are built and compiled by the ORM once a
# process (~0.4 ms of a new case's CPU when built each time) and prepared once a session.
_COUNTER_BUMP = CompiledUpdate(
    lambda *, shape, merchant_id, prefix, now: (
        _counters(merchant_id, prefix),
        {"last_value": F("last_value") + 1, "updated_at": now},
    ),
    params={"merchant_id": int, "prefix": str, "now": datetime},
    prepared=True,
)
_COUNTER_VALUE = CompiledRead(
    lambda *, shape, merchant_id, prefix: _counters(merchant_id, prefix).only("last_value"),
    params={"merchant_id": int, "prefix": str},
    prepared=True,
)


def _counter_bump(merchant_id: int, prefix: str) -> int | None:
    """Bump the counter and read the value back; None when the merchant has no counter for the
    prefix yet. The UPDATE holds the row's lock until the transaction ends, so no other creation
    reads the same value between the two statements."""
    if not _COUNTER_BUMP.run(merchant_id=merchant_id, prefix=str(prefix), now=timezone.now()):
        return None
    counter = _COUNTER_VALUE.first(shape=None, merchant_id=merchant_id, prefix=str(prefix))
    if counter is None:  # the bumped row is locked by this transaction: it cannot be gone
        raise TicketNumberCounter.DoesNotExist
    return counter.last_value


# --- use cases ----------------------------------------------------------------------------------


def ticket_create(
    *,
    merchant: Merchant,
    kind: str,
    subject: str,
    body: str,
    customer: Customer,
    channel: str,
    order: Order | None = None,
    order_lines: Iterable[OrderLine] = (),
    priority: int = TicketPriority.NORMAL,
    created_by: User | None = None,
    files: Sequence["UploadedFile[bytes]"] = (),
    assignee: User | None = None,
    team: Team | None = None,
    acknowledge: bool = True,
    system_subject: Mapping[str, Any] | None = None,
    body_is_note: bool = False,
    system_body: Mapping[str, Any] | None = None,
) -> Ticket:
    """Open a case. ``created_by`` is the staff member who typed it in; None means the customer.
    ``acknowledge`` False: the workflow app that opens it tells the customer itself, once, in the
    same transaction (a repair triaged and booked at once), instead of "we received it" first.

    A case the system opens for staff (a recovery case) passes ``body_is_note``: the body is an
    internal note of ``created_by``, or of the system when None, never words of the customer's.
    ``system_subject`` and ``system_body`` are the key and parameters of a text the system wrote
    (tickets.system_texts), so that every reader reads it in their own language."""
    ticket, _message = ticket_open(
        merchant=merchant,
        kind=kind,
        subject=subject,
        body=body,
        customer=customer,
        channel=channel,
        order=order,
        order_lines=order_lines,
        priority=priority,
        created_by=created_by,
        files=files,
        assignee=assignee,
        team=team,
        acknowledge=acknowledge,
        system_subject=system_subject,
        body_is_note=body_is_note,
        system_body=system_body,
    )
    return ticket


def ticket_open(
    *,
    merchant: Merchant,
    kind: str,
    subject: str,
    body: str,
    customer: Customer,
    channel: str,
    order: Order | None = None,
    order_lines: Iterable[OrderLine] = (),
    priority: int = TicketPriority.NORMAL,
    created_by: User | None = None,
    files: Sequence["UploadedFile[bytes]"] = (),
    assignee: User | None = None,
    team: Team | None = None,
    acknowledgement: Callable[[Ticket, Message], dict[str, Any]] | None = None,
    acknowledge: bool = True,
    system_subject: Mapping[str, Any] | None = None,
    body_is_note: bool = False,
    system_body: Mapping[str, Any] | None = None,
) -> tuple[Ticket, Message]:
    """``ticket_create``, returning the case's first message as well (a caller that stores more
    beside it need not read it back). ``acknowledgement`` gives what the customer's
    ``ticket_created`` notice carries besides (an e-mail's threading headers), so that it is
    written once, complete; ``acknowledge`` False sends no notice at all (see ``ticket_create``)."""
    subject = (subject or "").strip()
    if not subject:
        raise InvalidInput(_("Give the request a subject."), code="empty_subject", extra={"field": "subject"})
    if len(subject) > 200:
        raise InvalidInput(_("The subject is too long."), code="subject_too_long", extra={"field": "subject"})
    body = _clean_body(body)
    if kind not in TicketKind.values:
        raise InvalidInput(_("Unknown request kind."), code="invalid_kind", extra={"field": "kind"})
    if channel not in TicketChannel.values:
        raise InvalidInput(_("Unknown channel."), code="invalid_channel", extra={"field": "channel"})
    if priority not in TicketPriority.values:
        raise InvalidInput(_("Unknown priority."), code="invalid_priority", extra={"field": "priority"})
    if customer.merchant_id != merchant.pk:
        raise InvalidInput(_("Unknown customer."), code="unknown_customer", extra={"field": "customer"})
    order_lines = list(order_lines)
    if order is not None and order.merchant_id != merchant.pk:
        raise InvalidInput(_("Unknown order."), code="unknown_order", extra={"field": "order"})
    by_customer = created_by is None and not body_is_note
    if order is not None and by_customer and order.customer_id != customer.pk:
        raise InvalidInput(_("This order belongs to another customer."), code="order_not_customers")
    if any(order is None or line.order_id != order.pk for line in order_lines):
        raise InvalidInput(
            _("Those lines are not on this order."), code="lines_not_on_order", extra={"field": "order_lines"}
        )
    if created_by is not None:
        staff_membership_required(actor=created_by, merchant_id=merchant.pk)
    if assignee is not None:
        staff_membership_required(actor=assignee, merchant_id=merchant.pk)
    if team is not None and team.merchant_id != merchant.pk:
        raise InvalidInput(_("Unknown team."), code="unknown_team", extra={"field": "team"})
    checked = _check_files(files)

    # Inside a caller's transaction (a return opening its case) this joins it: nothing here is
    # caught and retried, so a savepoint would only add two round trips to every new case.
    with transaction.atomic(savepoint=False):
        now = timezone.now()
        ticket = Ticket.objects.create(
            merchant=merchant,
            number=ticket_number_allocate(merchant=merchant, kind=kind),
            kind=kind,
            priority=priority,
            channel=channel,
            subject=subject,
            system_subject=dict(system_subject or {}),
            customer=customer,
            order=order,
            store_id=order.store_id if order else None,
            assignee=assignee,
            team=team,
            last_customer_message_at=now if by_customer else None,
            status_changed_at=now,
        )
        if order_lines:
            Ticket.order_lines.through.objects.bulk_create(
                Ticket.order_lines.through(ticket=ticket, orderline=line) for line in order_lines
            )
        message = Message.objects.create(
            merchant=merchant,
            ticket=ticket,
            kind=Message.Kind.NOTE if body_is_note else Message.Kind.CUSTOMER,
            author_customer=None if body_is_note else customer,
            author_user=created_by,
            body=body,
            system_body=dict(system_body or {}),
        )
        _store_files(ticket, message, checked, user=created_by, customer=customer if by_customer else None)
        event_append(
            ticket,
            Verb.CREATED,
            actor_user=created_by,
            actor_customer=customer if by_customer else None,
            data={"kind": kind, "channel": channel, "subject": subject},
            public=True,
            # The customer reads that the case was opened, never the staff's note it opened with.
            message=None if body_is_note else message,
        )
        if body_is_note:
            event_append(ticket, Verb.NOTE, actor_user=created_by, public=False, message=message)
        # Every channel's new case is routed here, before its SLA clocks start (a rule may set
        # the SLA policy), so e-mail, portal, API and staff tickets follow the same rules.
        ticket_route(ticket=ticket, body=body)
        sla.sla_on_created(ticket, now)
        if acknowledge:
            notify_customer(ticket, "ticket_created", acknowledgement(ticket, message) if acknowledgement else None)
        if assignee is not None:
            notify_staff(ticket, assignee, "ticket_assigned")
    return ticket, message


def ticket_reply(
    *, ticket: Ticket, actor: User, body: str, files: Sequence["UploadedFile[bytes]"] = (), status: str | None = None
) -> Message:
    """A public reply. A new ticket becomes open unless the agent picks another status."""
    body = _clean_body(body)
    checked = _check_files(files)
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if ticket.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
            raise TransitionNotAllowed(
                _("This ticket is %(status)s; it takes no more replies.") % {"status": ticket.get_status_display()}
            )
        target = status or (TicketStatus.OPEN if ticket.status == TicketStatus.NEW else None)
        if target == ticket.status:
            target = None
        if target is not None and not ticket.can_transition_to(target):
            raise TransitionNotAllowed(
                _("A ticket that is %(current)s cannot become %(target)s.")
                % {"current": ticket.get_status_display(), "target": TicketStatus(target).label},
            )
        message = Message.objects.create(
            merchant_id=ticket.merchant_id, ticket=ticket, kind=Message.Kind.REPLY, author_user=actor, body=body
        )
        _store_files(ticket, message, checked, user=actor)
        event_append(ticket, Verb.REPLY, actor_user=actor, public=True, message=message)
        sla.sla_on_public_reply(ticket, message.created_at)
        changed = ["updated_at"]
        if ticket.first_responded_at is None:
            ticket.first_responded_at = timezone.now()
            changed.append("first_responded_at")
        if target is not None:
            changed += _set_status(ticket, target, actor_user=actor)
        ticket.save(update_fields=changed)
        notify_customer(
            ticket,
            "ticket_reply",
            {
                "reply": body,
                "agent_name": actor.get_full_name() or actor.username,
                **mail_reply_thread(ticket=ticket, message=message, subject=ticket.subject),
            },
        )
    return message


def ticket_note(*, ticket: Ticket, actor: User, body: str, files: Sequence["UploadedFile[bytes]"] = ()) -> Message:
    """An internal note: staff see it on the timeline, the customer never does."""
    body = _clean_body(body)
    checked = _check_files(files)
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        message = Message.objects.create(
            merchant_id=ticket.merchant_id, ticket=ticket, kind=Message.Kind.NOTE, author_user=actor, body=body
        )
        _store_files(ticket, message, checked, user=actor)
        event_append(ticket, Verb.NOTE, actor_user=actor, public=False, message=message)
        ticket.save(update_fields=["updated_at"])
    return message


def ticket_customer_message(
    *, ticket: Ticket, customer: Customer, body: str, files: Sequence["UploadedFile[bytes]"] = ()
) -> Message:
    """The customer writes. Waiting on them, or resolved, hands the move back to staff."""
    body = _clean_body(body)
    checked = _check_files(files)
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.customer_id != customer.pk:
            raise PermissionRefused(_("This request belongs to another customer."))
        if reopen_window_passed(ticket, timezone.now()):
            # Past the merchant's reopen window (or closed): a new case, linked to this one.
            follow_up = ticket_create(
                merchant=ticket.merchant,
                kind=ticket.kind,
                subject=ticket.subject,
                body=body,
                customer=customer,
                channel=ticket.channel,
                order=ticket.order,
                files=files,
            )
            follow_up_link(source=ticket, follow_up=follow_up, customer=customer)
            return follow_up.messages.get()
        if not ticket.accepts_customer_messages:
            raise TransitionNotAllowed(
                _("This request is %(status)s. Please open a new request.") % {"status": ticket.get_status_display()},
                code="ticket_closed",
            )
        message = Message.objects.create(
            merchant_id=ticket.merchant_id,
            ticket=ticket,
            kind=Message.Kind.CUSTOMER,
            author_customer=customer,
            body=body,
        )
        _store_files(ticket, message, checked, customer=customer)
        event_append(ticket, Verb.CUSTOMER_MESSAGE, actor_customer=customer, public=True, message=message)
        ticket.last_customer_message_at = timezone.now()
        changed = ["last_customer_message_at", "updated_at"]
        if ticket.status in (TicketStatus.WAITING_CUSTOMER, TicketStatus.RESOLVED):
            changed += _set_status(ticket, TicketStatus.OPEN, actor_customer=customer)
        if deadline_cancel(ticket=ticket, kind=PENDING_CLOSE_KIND) is not None:
            event_append(ticket, RoutingVerb.PENDING_CLOSE_CANCELLED, actor_customer=customer)
        sla.sla_on_customer_message(ticket, ticket.last_customer_message_at)
        ticket.save(update_fields=changed)
        notify_staff(ticket, ticket.assignee, "ticket_customer_message", {"message": body})
    return message


def ticket_assign(
    *, ticket: Ticket, actor: User, assignee: User | None, team: Team | None = None, via: str = ""
) -> Ticket:
    """``via=VIA_ADMIN``: an operator in the back office, recorded on the event."""
    with transaction.atomic():
        ticket = _lock(ticket)
        _staff_required(actor=actor, ticket=ticket, via=via)
        if assignee is not None:
            staff_membership_required(actor=assignee, merchant_id=ticket.merchant_id)
        if team is not None and team.merchant_id != ticket.merchant_id:
            raise InvalidInput(_("Unknown team."), code="unknown_team", extra={"field": "team"})
        if ticket.assignee_id == (assignee.pk if assignee else None) and ticket.team_id == (team.pk if team else None):
            return ticket
        data = {
            "from": ticket.assignee_id,
            "to": assignee.pk if assignee else None,
            "to_name": str(assignee) if assignee else "",
            "team": team.name if team else "",
        }
        data = _with_via(data, via)
        ticket.assignee = assignee
        ticket.team = team
        ticket.save(update_fields=["assignee", "team", "updated_at"])
        event_append(ticket, Verb.ASSIGNED, actor_user=actor, data=data)
        if assignee is not None and assignee != actor:
            notify_staff(ticket, assignee, "ticket_assigned", {"assigned_by": str(actor)})
    return ticket


def ticket_change_status(*, ticket: Ticket, actor: User, status: str, note: str = "") -> Ticket:
    if status not in TicketStatus.values:
        raise InvalidInput(_("Unknown status."), code="invalid_status", extra={"field": "status"})
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        changed = _set_status(ticket, status, actor_user=actor, note=note.strip())
        ticket.save(update_fields=[*changed, "updated_at"])
        if status in (TicketStatus.RESOLVED, TicketStatus.CANCELLED):
            # The label is stored in the outbox row: word it in the customer's language, not the agent's.
            with translation.override(customer_language(ticket)):
                status_label = str(ticket.get_status_display())
            notify_customer(ticket, "ticket_status", {"status": status_label, "status_code": status})
    return ticket


def ticket_change_priority(*, ticket: Ticket, actor: User, priority: int, via: str = "") -> Ticket:
    """``via=VIA_ADMIN``: an operator in the back office, recorded on the event."""
    if priority not in TicketPriority.values:
        raise InvalidInput(_("Unknown priority."), code="invalid_priority", extra={"field": "priority"})
    with transaction.atomic():
        ticket = _lock(ticket)
        _staff_required(actor=actor, ticket=ticket, via=via)
        if ticket.priority == priority:
            return ticket
        event_append(
            ticket,
            Verb.PRIORITY_CHANGED,
            actor_user=actor,
            data=_with_via({"from": ticket.priority, "to": priority}, via),
        )
        ticket.priority = priority
        ticket.save(update_fields=["priority", "updated_at"])
    return ticket


def ticket_link_order(*, ticket: Ticket, actor: User, order: Order, order_lines: Iterable[OrderLine] = ()) -> Ticket:
    order_lines = list(order_lines)
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if order.merchant_id != ticket.merchant_id:
            raise InvalidInput(_("Unknown order."), code="unknown_order", extra={"field": "order"})
        if any(line.order_id != order.pk for line in order_lines):
            raise InvalidInput(_("Those lines are not on this order."), code="lines_not_on_order")
        ticket.order = order
        ticket.store_id = order.store_id
        ticket.save(update_fields=["order", "store", "updated_at"])
        ticket.order_lines.set(order_lines)
        event_append(
            ticket,
            Verb.ORDER_LINKED,
            actor_user=actor,
            data={"order": order.external_number, "lines": [line.line_number for line in order_lines]},
        )
    return ticket


def ticket_set_tags(*, ticket: Ticket, actor: User, names: Iterable[str], via: str = "") -> Ticket:
    """``via=VIA_ADMIN``: an operator in the back office, recorded on the event."""
    names = sorted({name.strip()[:50] for name in names if name.strip()})
    with transaction.atomic():
        ticket = _lock(ticket)
        _staff_required(actor=actor, ticket=ticket, via=via)
        before = sorted(ticket.tags.values_list("name", flat=True))
        if before == names:
            return ticket
        tags = [Tag.objects.get_or_create(merchant_id=ticket.merchant_id, name=name)[0] for name in names]
        ticket.tags.set(tags)
        ticket.save(update_fields=["updated_at"])
        event_append(ticket, Verb.TAGS_CHANGED, actor_user=actor, data=_with_via({"from": before, "to": names}, via))
    return ticket


def ticket_reminder_set(*, ticket: Ticket, actor: User, remind_at: datetime, note: str = "") -> Ticket:
    """ "Remind me at": the ticket comes back to the actor when the time comes (one per person)."""
    if remind_at <= timezone.now():
        raise InvalidInput(_("Pick a time in the future."), code="reminder_in_past", extra={"field": "remind_at"})
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if ticket.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
            raise TransitionNotAllowed(_("A closed ticket takes no reminders."))
        deadline_schedule(
            ticket=ticket,
            kind=REMINDER_KIND,
            key=str(actor.pk),
            due_at=remind_at,
            user=actor,
            payload={"note": note.strip()[:500]},
        )
        event_append(
            ticket, Verb.REMINDER_SET, actor_user=actor, data={"at": remind_at.isoformat(), "note": note.strip()[:500]}
        )
    return ticket


def ticket_reminder_cancel(*, ticket: Ticket, actor: User) -> Ticket:
    with transaction.atomic():
        ticket = _lock(ticket)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        deadline_cancel(ticket=ticket, kind=REMINDER_KIND, key=str(actor.pk))
    return ticket


def _on_reminder_due(deadline: Deadline) -> None:
    ticket = deadline.ticket  # the sweep brought it, with its merchant
    user = deadline.user  # the sweep brought it
    event_append(
        ticket,
        Verb.REMINDER_DUE,
        actor_user=None,
        data={"deadline": deadline.pk, "user": deadline.user_id, "note": deadline.payload.get("note", "")},
    )
    if ticket.status not in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
        notify_staff(ticket, user, "reminder_due", {"note": deadline.payload.get("note", "")})


def register_deadline_handlers() -> None:
    sla.register_handlers()
    timers.register(REMINDER_KIND, on_due=_on_reminder_due)
    register_closing_handlers()


def ticket_follow_workflow(
    *,
    ticket: Ticket,
    status: str,
    actor_user: User | None = None,
    actor_customer: Customer | None = None,
    note: str = "",
) -> Ticket:
    """Move the case's generic status as a detailed workflow (a return, a repair) moves.

    Called inside the workflow's own transaction; the workflow has already decided the change is
    allowed for this actor, so no staff membership is required here. A ticket already in
    ``status`` is left alone.
    """
    with transaction.atomic():
        ticket = _lock(ticket)
        if ticket.status == status:
            return ticket
        changed = _set_status(ticket, status, actor_user=actor_user, actor_customer=actor_customer, note=note)
        ticket.save(update_fields=[*changed, "updated_at"])
    return ticket


# --- files no attachment refers to --------------------------------------------------------------


def _stored_files(storage: Storage, directory: str) -> Iterator[str]:
    """Every file under ``directory`` in the storage, as the names the rows store."""
    if not storage.exists(directory):
        return
    subdirectories, files = storage.listdir(directory)
    for name in sorted(files):
        yield posixpath.join(directory, name)
    for subdirectory in sorted(subdirectories):
        yield from _stored_files(storage, posixpath.join(directory, subdirectory))


def _delete_unreferenced(storage: Storage, names: list[str]) -> int:
    referenced = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True))
    deleted = 0
    for name in names:
        if name not in referenced:
            storage.delete(name)
            deleted += 1
    return deleted


def attachment_orphans_sweep(*, min_age: timedelta = ORPHAN_FILE_MIN_AGE) -> int:
    """Delete the attachment files that no Attachment row references and that are older than
    ``min_age``; return how many went.

    A file is written before its row, so a transaction that rolls back after the write leaves
    the file behind (a crash, or a later failure in the same transaction the removal in
    ``_store_files`` never sees). A younger file may still belong to a transaction in flight, and
    a name is never reused, so a file old enough and unreferenced can never be claimed again.
    """
    storage = Attachment._meta.get_field("file").storage
    cutoff = timezone.now() - min_age
    deleted = 0
    candidates: list[str] = []
    for name in _stored_files(storage, ATTACHMENT_DIR):
        if storage.get_modified_time(name) >= cutoff:
            continue
        candidates.append(name)
        if len(candidates) >= ORPHAN_LOOKUP_BATCH:
            deleted += _delete_unreferenced(storage, candidates)
            candidates = []
    if candidates:
        deleted += _delete_unreferenced(storage, candidates)
    if deleted:
        logger.info("Deleted %d attachment files no attachment refers to", deleted)
    return deleted
