"""Merging duplicates and linking related tickets."""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import Conflict, InvalidInput, TransitionNotAllowed
from aftersales.models import Deadline, User
from aftersales.services.deadlines import deadline_cancel
from aftersales.services.staff import staff_membership_required
from tickets.hooks import ticket_merged
from tickets.models import (
    FINAL_STATUSES,
    Attachment,
    Message,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketLinkKind,
    TicketStatus,
)
from tickets.notify import notify_customer
from tickets.services.statuses import status_fields
from tickets.timeline import event_append
from tickets.verbs import RoutingVerb

LINK_CHOICES = ("related", "parent", "child")


def tickets_lock(*ticket_ids: int) -> dict[int, Ticket]:
    """The tickets, locked in id order (so two merges of one pair never wait on each other)."""
    rows = (
        Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=ticket_ids)
        .select_related("customer", "merchant")
        .order_by("pk")
    )
    return {ticket.pk: ticket for ticket in rows}


def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Merge ``source`` into ``target``: its messages, attachments and timeline move to the target
    (whose timeline then reads them in time order), its tags are added, it is closed with a
    pointer to the target, and the customer is told. Only tickets of one customer merge, so
    nobody ever reads another customer's messages. Returns the target."""
    if source.pk == target.pk:
        raise InvalidInput(_("A ticket cannot be merged into itself."), code="merge_self")
    with transaction.atomic():
        locked = tickets_lock(source.pk, target.pk)
        source, target = locked[source.pk], locked[target.pk]
        if source.merchant_id != target.merchant_id:
            raise InvalidInput(_("Unknown ticket."), code="unknown_ticket", extra={"field": "target"})
        staff_membership_required(actor=actor, merchant_id=source.merchant_id)
        if source.customer_id != target.customer_id:
            raise InvalidInput(_("Only tickets of the same customer can be merged."), code="merge_other_customer")
        for ticket in (source, target):
            if ticket.status in FINAL_STATUSES:
                raise TransitionNotAllowed(
                    _("%(number)s is %(status)s and cannot be merged.")
                    % {"number": ticket.number, "status": ticket.get_status_display()},
                    code="merge_final",
                )
        now = timezone.now()
        moved_messages = Message.objects.filter(ticket=source).update(ticket=target, updated_at=now)
        moved_attachments = Attachment.objects.filter(ticket=source).update(ticket=target, updated_at=now)
        # The events keep their time, actor, verb and data; only the ticket they belong to moves,
        # so the target's timeline (ordered by time) interleaves both histories.
        moved_events = TicketEvent.objects.filter(ticket=source).update(ticket=target)
        source_tags = list(source.tags.all())
        if source_tags:
            target.tags.add(*source_tags)
        if source.order_id and not target.order_id:
            target.order_id, target.store_id = source.order_id, source.store_id
        try:
            with transaction.atomic():
                TicketLink.objects.create(
                    merchant_id=source.merchant_id,
                    source=source,
                    target=target,
                    kind=TicketLinkKind.MERGED_INTO,
                    created_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(_("This ticket was already merged."), code="already_merged") from exc
        # Close the source: through resolved, as the status table says, recorded in the one event.
        changed: list[str] = []
        if source.status != TicketStatus.RESOLVED:
            changed += status_fields(source, TicketStatus.RESOLVED)
        changed += status_fields(source, TicketStatus.CLOSED)
        source.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        for deadline in Deadline.objects.filter(ticket=source, state__in=Deadline.OPEN_STATES).values_list(
            "kind", "key"
        ):
            deadline_cancel(ticket=source, kind=deadline[0], key=deadline[1], at=now)
        # After the deadlines: a listener sees the source closed with no clock running.
        ticket_merged(source, target)
        event_append(
            source,
            RoutingVerb.MERGED_INTO,
            actor_user=actor,
            data={"into": target.number, "into_id": target.pk},
            public=True,
        )
        event_append(
            target,
            RoutingVerb.MERGED_FROM,
            actor_user=actor,
            data={
                "from": source.number,
                "from_id": source.pk,
                "messages": moved_messages,
                "attachments": moved_attachments,
                "events": moved_events,
            },
            public=True,
        )
        target.last_customer_message_at = max(
            (t for t in (target.last_customer_message_at, source.last_customer_message_at) if t), default=None
        )
        target.save(update_fields=["order", "store", "last_customer_message_at", "updated_at"])
        notify_customer(target, "ticket_merged", {"merged_number": source.number})
    return target


def ticket_link(*, ticket: Ticket, other: Ticket, kind: str, actor: User) -> TicketLink:
    """Link two tickets: ``related``; ``parent`` (``other`` is the parent of ``ticket``) or
    ``child`` (``other`` is its child). Both timelines record it."""
    if kind not in LINK_CHOICES:
        raise InvalidInput(_("Unknown link kind."), code="invalid_link_kind", extra={"field": "kind"})
    if ticket.pk == other.pk:
        raise InvalidInput(_("A ticket cannot be linked to itself."), code="link_self")
    with transaction.atomic():
        locked = tickets_lock(ticket.pk, other.pk)
        ticket, other = locked[ticket.pk], locked[other.pk]
        if ticket.merchant_id != other.merchant_id:
            raise InvalidInput(_("Unknown ticket."), code="unknown_ticket", extra={"field": "other"})
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if kind == "related":
            # One row per pair, whichever side it was made from.
            source, target = (ticket, other) if ticket.pk < other.pk else (other, ticket)
            link_kind = TicketLinkKind.RELATED
        elif kind == "parent":
            source, target, link_kind = other, ticket, TicketLinkKind.PARENT
        else:
            source, target, link_kind = ticket, other, TicketLinkKind.PARENT
        if link_kind == TicketLinkKind.PARENT and _is_ancestor(target.pk, of=source.pk):
            raise InvalidInput(_("That would make a ticket its own ancestor."), code="link_cycle")
        if TicketLink.objects.filter(source=source, target=target, kind=link_kind).exists():
            raise Conflict(_("These tickets are already linked."), code="already_linked")
        try:
            with transaction.atomic():
                link = TicketLink.objects.create(
                    merchant_id=ticket.merchant_id, source=source, target=target, kind=link_kind, created_by=actor
                )
        except IntegrityError as exc:
            raise Conflict(
                _("%(number)s already has a parent.") % {"number": target.number}, code="has_parent"
            ) from exc
        for one, two in ((ticket, other), (other, ticket)):
            event_append(
                one, RoutingVerb.LINKED, actor_user=actor, data={"kind": _side(link, one), "other": two.number}
            )
    return link


def _side(link: TicketLink, ticket: Ticket) -> str:
    if link.kind == TicketLinkKind.RELATED:
        return "related"
    return "child" if link.source_id == ticket.pk else "parent"  # parent's view: the other is its child


def _is_ancestor(ticket_id: int, *, of: int) -> bool:
    """Whether ``ticket_id`` is ``of`` itself or one of its ancestors (parents of parents)."""
    seen: set[int] = set()
    current: int | None = of
    while current is not None and current not in seen:
        if current == ticket_id:
            return True
        seen.add(current)
        current = (
            TicketLink.objects.filter(target_id=current, kind=TicketLinkKind.PARENT)
            .values_list("source_id", flat=True)
            .first()
        )
    return False


def ticket_unlink(*, link: TicketLink, actor: User) -> None:
    if link.kind == TicketLinkKind.MERGED_INTO:
        raise TransitionNotAllowed(_("A merge cannot be undone."), code="merge_final")
    with transaction.atomic():
        locked = tickets_lock(link.source_id, link.target_id)
        staff_membership_required(actor=actor, merchant_id=link.merchant_id)
        deleted, _rows = TicketLink.objects.filter(pk=link.pk).delete()
        if not deleted:
            return
        source, target = locked[link.source_id], locked[link.target_id]
        for one, two in ((source, target), (target, source)):
            event_append(one, RoutingVerb.UNLINKED, actor_user=actor, data={"kind": link.kind, "other": two.number})
