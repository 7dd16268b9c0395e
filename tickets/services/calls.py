"""Phone calls staff had with a customer: a first-class message (kind ``phone``) on the case."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput
from aftersales.models import User
from aftersales.services.staff import staff_membership_required
from tickets.models import CallDirection, Message, PhoneCall, Ticket
from tickets.services.tickets import MAX_BODY_LENGTH
from tickets.timeline import event_append

PHONE_CALL_VERB = "phone_call"
MAX_CALL_SECONDS = 86400


def ticket_phone_call_log(
    *,
    ticket: Ticket,
    actor: User,
    direction: str,
    duration_seconds: int,
    summary: str,
    phone_number: str = "",
    called_at: datetime | None = None,
) -> PhoneCall:
    """A call staff had with the customer: its summary on the timeline (staff only), its length
    and direction kept. A call from the customer hands the move back to staff like a message."""
    summary = (summary or "").strip()
    if not summary:
        raise InvalidInput(_("Summarise the call."), code="empty_summary", extra={"field": "summary"})
    if len(summary) > MAX_BODY_LENGTH:
        raise InvalidInput(_("The summary is too long."), code="summary_too_long", extra={"field": "summary"})
    if direction not in CallDirection.values:
        raise InvalidInput(_("Say who called."), code="invalid_direction", extra={"field": "direction"})
    if not 0 <= duration_seconds <= MAX_CALL_SECONDS:
        raise InvalidInput(
            _("Enter the call's length in minutes and seconds."), code="invalid_duration", extra={"field": "duration"}
        )
    now = timezone.now()
    called_at = called_at or now
    if called_at > now + timedelta(minutes=5):
        raise InvalidInput(_("The call cannot be in the future."), code="call_in_future", extra={"field": "called_at"})
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        message = Message.objects.create(
            merchant_id=ticket.merchant_id, ticket=ticket, kind=Message.Kind.PHONE, author_user=actor, body=summary
        )
        call = PhoneCall.objects.create(
            merchant_id=ticket.merchant_id,
            ticket=ticket,
            message=message,
            direction=direction,
            phone_number=(phone_number or ticket.customer.phone)[:32],
            duration_seconds=duration_seconds,
            called_at=called_at,
            entered_by=actor,
        )
        event_append(
            ticket,
            PHONE_CALL_VERB,
            actor_user=actor,
            public=False,
            message=message,
            data={
                "direction": direction,
                "duration_seconds": duration_seconds,
                "duration": f"{duration_seconds // 60}:{duration_seconds % 60:02d}",
                "called_at": called_at.isoformat(),
            },
        )
        ticket.save(update_fields=["updated_at"])
    return call
