"""Reads of follow-ups: the rules a trigger fires, the queue of calls to make, one call's page
(script, case history, the customer's contact), and the refunds a return paid."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from feedback.models import FollowUp, FollowUpCall, FollowUpRule, FollowUpStatus
from returns.models import Refund, RefundState
from tickets.models import Ticket, TicketEvent

FOLLOWUPS_PAGE_SIZE = 100
HISTORY_LIMIT = 50


def followup_rules_of(*, merchant_id: int) -> QuerySet[FollowUpRule]:
    return FollowUpRule.objects.filter(merchant_id=merchant_id).order_by("name", "id")


def rules_for_trigger(*, merchant_id: int, trigger: str) -> list[FollowUpRule]:
    return list(FollowUpRule.objects.filter(merchant_id=merchant_id, trigger=trigger, is_active=True).order_by("id"))


def paid_refunds_over(*, ticket: Ticket, amount: Decimal) -> list[Refund]:
    """The paid refunds of the return behind the ticket above ``amount``, oldest first."""
    return list(
        Refund.objects.filter(
            merchant_id=ticket.merchant_id,
            return_request__ticket_id=ticket.pk,
            state=RefundState.PAID,
            amount__gt=amount,
        ).order_by("id")
    )


def followups_queued(*, merchant_id: int, include_later: bool = False) -> QuerySet[FollowUp]:
    """The calls to make now, the longest waiting first; with ``include_later`` also those
    scheduled for later. All of them: the page shows the first ``FOLLOWUPS_PAGE_SIZE``, an export
    every one."""
    statuses = [FollowUpStatus.DUE]
    if include_later:
        statuses += [FollowUpStatus.RETRY, FollowUpStatus.SCHEDULED]
    return (
        FollowUp.objects.filter(merchant_id=merchant_id, status__in=statuses)
        .select_related("ticket", "customer", "rule")
        .order_by("due_at", "id")
    )


def followup_queue(*, merchant_id: int, include_later: bool = False) -> list[FollowUp]:
    """The first page of :func:`followups_queued`."""
    return list(followups_queued(merchant_id=merchant_id, include_later=include_later)[:FOLLOWUPS_PAGE_SIZE])


@dataclass(frozen=True)
class FollowUpDetail:
    followup: FollowUp
    calls: list[FollowUpCall]
    history: list[TicketEvent]
    is_due: bool


def followup_detail(*, merchant_id: int, followup_id: int) -> FollowUpDetail | None:
    followup = (
        FollowUp.objects.filter(merchant_id=merchant_id, pk=followup_id)
        .select_related("ticket", "customer", "rule", "completed_by", "new_ticket", "ticket__assignee")
        .first()
    )
    if followup is None:
        return None
    calls = list(followup.calls.select_related("caller").order_by("created_at", "id"))
    history = list(
        TicketEvent.objects.filter(merchant_id=merchant_id, ticket_id=followup.ticket_id)
        .select_related("actor_user", "actor_customer", "message")
        .prefetch_related("message__attachments")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    return FollowUpDetail(
        followup=followup, calls=calls, history=history, is_due=followup.is_open and followup.due_at <= timezone.now()
    )


def followups_for_api(*, merchant_id: int) -> QuerySet[FollowUp]:
    return (
        FollowUp.objects.filter(merchant_id=merchant_id)
        .select_related("ticket", "customer", "rule")
        .order_by("-created_at", "-id")
    )
