"""Follow-up calls (回访): the merchant's rules schedule them on the timers engine, the sweep puts
them in the queue when due, and staff record each call: not reached (tried again after the rule's
interval, up to its attempts), satisfied, unsatisfied (a recovery case opens) or a new problem (a
new case opens).

Triggers: a case resolved, a complaint resolved and a return settled with a paid refund over an
amount come from the hub's status listener; ``followups_trigger`` is public for the triggers of
other apps; ``followups_on_repair_done`` is repairs' listener (``repairs.hooks``), which calls it
with ``FollowUpTrigger.REPAIR_DONE`` when a repair is done."""

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import User
from feedback import timers
from feedback.locks import followup_lock
from feedback.models import (
    CallResult,
    FollowUp,
    FollowUpCall,
    FollowUpOutcome,
    FollowUpRule,
    FollowUpStatus,
    FollowUpTrigger,
    RecoveryCase,
    RecoveryTrigger,
)
from feedback.roles import require_caller
from feedback.selectors import paid_refunds_over, rules_for_trigger
from feedback.services.recovery import recovery_open
from feedback.timeline import FOLLOWUP_NEW_PROBLEM_SUBJECT, FeedbackVerb
from repairs.models import RepairOrder
from tickets.models import Ticket, TicketChannel, TicketKind, TicketStatus
from tickets.services import ticket_create
from tickets.system_texts import system_text_source
from tickets.timeline import event_append

MAX_NOTE_LENGTH = 4000
RETURN_KINDS = (TicketKind.RETURN, TicketKind.EXCHANGE, TicketKind.REFUND_ONLY)


def followups_on_ticket_status(*, ticket: Ticket, previous: str, status: str) -> None:
    """Inside the hub's status change: the rules a resolution triggers."""
    if status != TicketStatus.RESOLVED or RecoveryCase.objects.filter(recovery_ticket_id=ticket.pk).exists():
        return
    followups_trigger(ticket=ticket, trigger=FollowUpTrigger.CASE_RESOLVED)
    if ticket.kind == TicketKind.COMPLAINT:
        followups_trigger(ticket=ticket, trigger=FollowUpTrigger.COMPLAINT_CLOSED)
    if ticket.kind in RETURN_KINDS:
        for rule in rules_for_trigger(merchant_id=ticket.merchant_id, trigger=FollowUpTrigger.REFUND_OVER):
            for refund in paid_refunds_over(ticket=ticket, amount=rule.min_amount or Decimal(0)):
                _schedule(rule, ticket, source_key=f"refund:{refund.pk}")


def followups_on_repair_done(*, repair_order: RepairOrder) -> list[FollowUp]:
    """repairs' listener (``repairs.hooks``): the rules for a repair that is done, once per repair
    whichever done status it reached first."""
    return followups_trigger(
        ticket=repair_order.ticket, trigger=FollowUpTrigger.REPAIR_DONE, source_key=f"repair:{repair_order.pk}"
    )


def followups_trigger(*, ticket: Ticket, trigger: str, source_key: str = "") -> list[FollowUp]:
    """Schedule a follow-up for each active rule of the merchant with this trigger (the rules with
    an amount are matched by the refund listener, not here). Delivered twice, it schedules once."""
    if trigger not in FollowUpTrigger.values:
        raise ValueError(f"unknown follow-up trigger {trigger!r}")  # a caller's mistake
    if trigger == FollowUpTrigger.REFUND_OVER:
        raise ValueError("refund rules are matched on the refunds of a return")
    with transaction.atomic(savepoint=False):
        scheduled = [
            _schedule(rule, ticket, source_key=source_key)
            for rule in rules_for_trigger(merchant_id=ticket.merchant_id, trigger=trigger)
        ]
    return [followup for followup in scheduled if followup is not None]


def _schedule(rule: FollowUpRule, ticket: Ticket, *, source_key: str) -> FollowUp | None:
    due_at = timezone.now() + timedelta(hours=rule.delay_hours)
    followup, created = FollowUp.objects.get_or_create(
        rule=rule,
        ticket=ticket,
        source_key=source_key,
        defaults={
            "merchant_id": ticket.merchant_id,
            "customer_id": ticket.customer_id,
            "due_at": due_at,
            "max_attempts": rule.max_attempts,
        },
    )
    if not created:
        return None
    timers.followup_schedule(ticket=ticket, followup_id=followup.pk, at=due_at)
    event_append(
        ticket,
        FeedbackVerb.FOLLOWUP_SCHEDULED,
        data={"followup": followup.pk, "rule": rule.name, "due_at": due_at.isoformat()},
    )
    return followup


def followup_mark_due(*, followup_id: int) -> FollowUp:
    """The sweep: the call is due and joins the follow-up queue."""
    with transaction.atomic():
        followup = followup_lock(followup_id)
        if followup.status in (FollowUpStatus.SCHEDULED, FollowUpStatus.RETRY):
            followup.status = FollowUpStatus.DUE
            followup.save(update_fields=["status", "updated_at"])
            event_append(followup.ticket, FeedbackVerb.FOLLOWUP_DUE, data={"followup": followup.pk})
    return followup


def followup_record_call(
    *, followup: FollowUp, actor: User, result: str, note: str = "", new_case_subject: str = ""
) -> FollowUp:
    """Record a call and what follows from it."""
    if result not in CallResult.values:
        raise InvalidInput(_("Pick what came of the call."), code="invalid_result", extra={"field": "result"})
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(_("The note is too long."), code="note_too_long", extra={"field": "note"})
    if result in (CallResult.UNSATISFIED, CallResult.NEW_PROBLEM) and not note:
        raise InvalidInput(_("Write down what the customer said."), code="note_required", extra={"field": "note"})
    with transaction.atomic():
        followup = followup_lock(followup.pk)
        require_caller(actor, followup.merchant_id)
        if not followup.is_open:
            raise TransitionNotAllowed(_("This follow-up is already done."), code="followup_done")
        now = timezone.now()
        followup.attempts += 1
        FollowUpCall.objects.create(
            merchant_id=followup.merchant_id, followup=followup, caller=actor, result=result, note=note
        )
        changed = ["attempts", "status", "updated_at"]
        if result == CallResult.NOT_REACHED and followup.attempts < followup.max_attempts:
            followup.status = FollowUpStatus.RETRY
            followup.due_at = now + timedelta(hours=followup.rule.retry_hours)
            changed.append("due_at")
            timers.followup_schedule(ticket=followup.ticket, followup_id=followup.pk, at=followup.due_at)
        else:
            followup.status = FollowUpStatus.DONE
            followup.outcome = {
                CallResult.NOT_REACHED: FollowUpOutcome.UNREACHABLE,
                CallResult.SATISFIED: FollowUpOutcome.SATISFIED,
                CallResult.UNSATISFIED: FollowUpOutcome.UNSATISFIED,
                CallResult.NEW_PROBLEM: FollowUpOutcome.NEW_PROBLEM,
            }[CallResult(result)]
            followup.completed_at = now
            followup.completed_by = actor
            changed += ["outcome", "completed_at", "completed_by"]
            timers.followup_cancel(ticket=followup.ticket, followup_id=followup.pk)
        if result == CallResult.NEW_PROBLEM:
            followup.new_ticket = ticket_create(
                merchant=followup.merchant,
                kind=TicketKind.SUPPORT,
                subject=(new_case_subject.strip() or _("New problem found on a follow-up call"))[:200],
                system_subject=None if new_case_subject.strip() else system_text_source(FOLLOWUP_NEW_PROBLEM_SUBJECT),
                body=note,
                customer=followup.customer,
                channel=TicketChannel.PHONE,
                order=followup.ticket.order,
                created_by=actor,
                assignee=actor,
            )
            changed.append("new_ticket")
        followup.save(update_fields=changed)
        event_append(
            followup.ticket,
            FeedbackVerb.FOLLOWUP_CALLED,
            actor_user=actor,
            data={"followup": followup.pk, "result": result, "attempt": followup.attempts},
        )
        if result == CallResult.UNSATISFIED:
            recovery_open(
                original_ticket=followup.ticket,
                trigger=RecoveryTrigger.FOLLOWUP_UNSATISFIED,
                followup=followup,
                note=note,
                actor=actor,
            )
    return followup
