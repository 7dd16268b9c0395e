"""Recovery cases: a case of its own for an unhappy customer, linked to the one that went wrong,
assigned to a supervisor and due within the merchant's recovery time; its outcome recorded."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aftersales.exceptions import TransitionNotAllowed
from aftersales.models import User
from feedback import timers
from feedback.locks import recovery_lock
from feedback.models import FollowUp, RecoveryCase, RecoveryStatus, Survey
from feedback.roles import require_supervisor
from feedback.selectors import recovery_supervisor_for, survey_settings_of
from feedback.timeline import RECOVERY_SUBJECT, FeedbackVerb
from tickets.models import Ticket, TicketChannel, TicketKind, TicketPriority
from tickets.notify import customer_language, notify_staff
from tickets.services import ticket_create
from tickets.system_texts import system_text, system_text_source
from tickets.timeline import event_append

MAX_NOTE_LENGTH = 4000


def recovery_open(
    *,
    original_ticket: Ticket,
    trigger: str,
    survey: Survey | None = None,
    followup: FollowUp | None = None,
    note: str = "",
    note_source: dict[str, Any] | None = None,
    actor: User | None = None,
) -> RecoveryCase:
    """Open the recovery case in the caller's transaction (an answer, a follow-up call).

    The case opens with an internal note of why: ``note``, the words of ``actor`` (who took the
    call), or the system's ``note_source`` (a rating), written by the system. The customer never
    wrote it, so it is not shown as theirs, and they do not read it on the portal."""
    merchant = original_ticket.merchant
    supervisor = recovery_supervisor_for(merchant_id=merchant.pk)
    survey_settings = survey_settings_of(merchant.pk)
    subject_source = system_text_source(RECOVERY_SUBJECT, number=original_ticket.number)
    with transaction.atomic(savepoint=False):
        # Stored in the customer's language, who is told of the new case and reads it on the portal;
        # each reader's page says it again in theirs from the key.
        with translation.override(customer_language(original_ticket)):
            subject = system_text(subject_source, original_ticket.number)
        # The note is the staff's: stored in the merchant's language, read in each reader's.
        with translation.override(merchant.default_language):
            body = note or (system_text(note_source, "") if note_source else "")
            body = body or _("Recovery case for %(number)s.") % {"number": original_ticket.number}
        recovery_ticket = ticket_create(
            merchant=merchant,
            kind=TicketKind.SUPPORT,
            subject=subject[:200],
            body=body[:MAX_NOTE_LENGTH],
            customer=original_ticket.customer,
            channel=TicketChannel.STAFF,
            order=original_ticket.order,
            priority=TicketPriority.HIGH,
            created_by=actor,
            assignee=supervisor,
            team=original_ticket.team,
            system_subject=subject_source,
            body_is_note=True,
            system_body=None if note else note_source,
            # The shop opened it, not the customer: no "we have received your request"; the
            # supervisor reaches out (and the customer reads on the portal that the shop opened it).
            acknowledge=False,
        )
        due_at = timezone.now() + timedelta(hours=survey_settings.recovery_due_hours)
        recovery = RecoveryCase.objects.create(
            merchant=merchant,
            original_ticket=original_ticket,
            recovery_ticket=recovery_ticket,
            trigger=trigger,
            survey=survey,
            followup=followup,
            supervisor=supervisor,
            due_at=due_at,
        )
        timers.recovery_due_schedule(ticket=recovery_ticket, recovery_id=recovery.pk, at=due_at)
        event_append(
            original_ticket,
            FeedbackVerb.RECOVERY_OPENED,
            data={"recovery": recovery.pk, "ticket": recovery_ticket.number, "trigger": trigger},
        )
        event_append(
            recovery_ticket,
            FeedbackVerb.RECOVERY_OPENED,
            data={"recovery": recovery.pk, "original": original_ticket.number, "trigger": trigger},
        )
        notify_staff(recovery_ticket, supervisor, "recovery_opened", {"original_number": original_ticket.number})
    return recovery


def recovery_close(
    *, recovery: RecoveryCase, actor: User, reached: bool, resolved: bool, compensated: bool, note: str = ""
) -> RecoveryCase:
    """Record what came of it: whether the customer was reached, the problem resolved, and
    whether they were compensated (through the returns ledger, recorded there)."""
    with transaction.atomic():
        recovery = recovery_lock(recovery.pk)
        require_supervisor(actor, recovery.merchant_id)
        if not recovery.can_transition_to(RecoveryStatus.CLOSED):
            raise TransitionNotAllowed(_("This recovery case is already closed."), code="recovery_closed")
        recovery.status = RecoveryStatus.CLOSED
        recovery.reached, recovery.resolved, recovery.compensated = reached, resolved, compensated
        recovery.outcome_note = note.strip()[:MAX_NOTE_LENGTH]
        recovery.closed_at = timezone.now()
        recovery.closed_by = actor
        recovery.save(
            update_fields=[
                "status",
                "reached",
                "resolved",
                "compensated",
                "outcome_note",
                "closed_at",
                "closed_by",
                "updated_at",
            ]
        )
        timers.recovery_due_meet(ticket=recovery.recovery_ticket)
        outcome = {"reached": reached, "resolved": resolved, "compensated": compensated}
        for ticket in (recovery.original_ticket, recovery.recovery_ticket):
            event_append(
                ticket, FeedbackVerb.RECOVERY_CLOSED, actor_user=actor, data={"recovery": recovery.pk, **outcome}
            )
    return recovery


def recovery_overdue(*, recovery_id: int) -> RecoveryCase:
    """The sweep: a recovery case still open at its due time is put before its supervisor again."""
    with transaction.atomic():
        recovery = recovery_lock(recovery_id)
        if recovery.status == RecoveryStatus.OPEN:
            event_append(recovery.recovery_ticket, FeedbackVerb.RECOVERY_OVERDUE, data={"recovery": recovery.pk})
            supervisor = User.objects.filter(pk=recovery.supervisor_id).first() if recovery.supervisor_id else None
            notify_staff(
                recovery.recovery_ticket,
                supervisor,
                "recovery_overdue",
                {"original_number": recovery.original_ticket.number},
            )
    return recovery
