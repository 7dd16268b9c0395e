"""SLA clocks of a ticket, on the timers engine.

The ticket services call the hooks here inside their own transaction, so a clock starts, pauses,
resumes and stops with the change that caused it. The sweep calls the handlers registered at the
bottom when a warning or a target falls due.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import translation

from aftersales import timers
from aftersales.business_time import CalendarSpec
from aftersales.config_cache import config_cached
from aftersales.models import BusinessCalendar, Deadline, Membership
from aftersales.services.deadlines import (
    deadline_cancel,
    deadline_meet,
    deadline_pause,
    deadline_resume,
    deadline_schedule,
)
from tickets.deadline_kinds import KIND_PREFIX as KIND_PREFIX
from tickets.deadline_kinds import kind_of as kind_of
from tickets.deadline_kinds import target_of as target_of
from tickets.models import SlaBreach, SlaPolicy, SlaTarget, Ticket, TicketEvent, TicketStatus
from tickets.notify import notify_staff
from tickets.timeline import event_append

RESPONSE_TARGETS = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE)
PAUSING_STATUSES = (TicketStatus.WAITING_CUSTOMER, TicketStatus.WAITING_THIRD_PARTY)


def sla_policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy, by position, whose every non-empty condition holds."""
    # The merchant's policies are kept per process until its configuration changes.
    policies = config_cached(
        "sla_policies",
        lambda: list(
            SlaPolicy.objects.filter(merchant_id=ticket.merchant_id, is_active=True)
            .prefetch_related("match_stores")
            .order_by("position")
        ),
        merchant_id=ticket.merchant_id,
    )
    tier = ticket.customer.tier if ticket.customer_id else None
    for policy in policies:
        stores = {store.pk for store in policy.match_stores.all()}
        if (
            (not policy.match_kinds or ticket.kind in policy.match_kinds)
            and (not policy.match_priorities or ticket.priority in policy.match_priorities)
            and (not policy.match_channels or ticket.channel in policy.match_channels)
            and (not policy.match_customer_tiers or tier in policy.match_customer_tiers)
            and (not stores or ticket.store_id in stores)
        ):
            return policy
    return None


def sla_calendar(ticket: Ticket, policy: SlaPolicy) -> BusinessCalendar | None:
    """The policy's calendar, else the team's, else the merchant's default; none means wall-clock."""
    if policy.calendar_id:
        return policy.calendar
    calendars = BusinessCalendar.objects.filter(merchant_id=ticket.merchant_id)
    if ticket.team_id:
        team_calendar = calendars.filter(team_id=ticket.team_id).first()
        if team_calendar is not None:
            return team_calendar
    return calendars.filter(team__isnull=True, is_resource=False).first()


def _start(ticket: Ticket, policy: SlaPolicy | None, target: str, at: datetime) -> Deadline | None:
    if policy is None:
        return None
    minutes = policy.target_minutes(target)
    if not minutes:
        return None
    return deadline_schedule(
        ticket=ticket,
        kind=kind_of(target),
        business_minutes=minutes,
        calendar=sla_calendar(ticket, policy),
        warn_percent=policy.warning_percent,
        payload={"policy": policy.pk, "target": target},
        start=at,
    )


# --- hooks the ticket services call -------------------------------------------------------------


def sla_on_created(ticket: Ticket, at: datetime) -> None:
    # A routing rule may have chosen the policy already.
    policy = ticket.sla_policy if ticket.sla_policy_id else sla_policy_for(ticket)
    if policy is None:
        return
    Ticket.objects.filter(pk=ticket.pk).update(sla_policy=policy)
    ticket.sla_policy = policy
    _start(ticket, policy, SlaTarget.FIRST_RESPONSE, at)
    _start(ticket, policy, SlaTarget.RESOLUTION, at)


def sla_on_public_reply(ticket: Ticket, at: datetime) -> None:
    """A public reply meets the response clocks; a response that was late records how late."""
    for target in RESPONSE_TARGETS:
        deadline_meet(ticket=ticket, kind=kind_of(target), at=at)
    for breach in SlaBreach.objects.filter(
        ticket=ticket, target__in=RESPONSE_TARGETS, met_at__isnull=True
    ).select_related("deadline__calendar"):
        _record_lateness(breach, at)


def sla_on_customer_message(ticket: Ticket, at: datetime) -> None:
    """After the first response, each customer message starts the next-response clock."""
    if ticket.sla_policy_id is None or ticket.first_responded_at is None:
        return
    _start(ticket, ticket.sla_policy, SlaTarget.NEXT_RESPONSE, at)


def sla_on_status(ticket: Ticket, previous: str, status: str, at: datetime) -> None:
    if (
        ticket.sla_policy_id is None
        and not Deadline.objects.filter(ticket=ticket, kind__startswith=KIND_PREFIX).exists()
    ):
        return
    kinds = [kind_of(target) for target in SlaTarget.values]
    if status in PAUSING_STATUSES:
        for kind in kinds:
            deadline_pause(ticket=ticket, kind=kind, reason=status, at=at)
    elif status == TicketStatus.RESOLVED:
        deadline_meet(ticket=ticket, kind=kind_of(SlaTarget.RESOLUTION), at=at)
        for target in RESPONSE_TARGETS:
            deadline_cancel(ticket=ticket, kind=kind_of(target), at=at)
        for breach in SlaBreach.objects.filter(
            ticket=ticket, target=SlaTarget.RESOLUTION, met_at__isnull=True
        ).select_related("deadline__calendar"):
            _record_lateness(breach, at)
    elif status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
        for kind in kinds:
            deadline_cancel(ticket=ticket, kind=kind, at=at)
    elif previous == TicketStatus.RESOLVED and ticket.sla_policy_id:
        # Reopened: the resolution clock starts again from now.
        _start(ticket, ticket.sla_policy, SlaTarget.RESOLUTION, at)
    elif previous in PAUSING_STATUSES:
        for kind in kinds:
            deadline_resume(ticket=ticket, kind=kind, at=at)


def _record_lateness(breach: SlaBreach, at: datetime) -> None:
    deadline = breach.deadline
    spec = CalendarSpec.from_calendar(deadline.calendar) if deadline.calendar else CalendarSpec.always_open()
    breach.met_at = at
    breach.late_minutes = spec.minutes_between(breach.due_at, at)
    breach.save(update_fields=["met_at", "late_minutes", "updated_at"])


# --- handlers the sweep runs --------------------------------------------------------------------


def _supervisors(merchant_id: int):
    return [
        membership.user
        for membership in Membership.objects.filter(
            merchant_id=merchant_id,
            is_active=True,
            user__is_active=True,
            role__in=(Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN),
        ).select_related("user")
    ]


def _notify(ticket: Ticket, users, template: str, target: str, context: dict) -> None:
    for user in {user.pk: user for user in users}.values():
        with translation.override(user.language or ticket.merchant.default_language):
            target_label = str(SlaTarget(target).label)
        notify_staff(ticket, user, template, {"target": target_label, **context})


def _local_time(ticket: Ticket, instant: datetime) -> str:
    zone = ZoneInfo(ticket.merchant.timezone)
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} ({ticket.merchant.timezone})"


def _on_warning(deadline: Deadline) -> None:
    ticket = Ticket.objects.select_related("merchant", "assignee", "team").get(pk=deadline.ticket_id)
    target = target_of(deadline.kind)
    event_append(
        ticket,
        TicketEvent.Verb.SLA_WARNING,
        data={"target": target, "due_at": deadline.due_at.isoformat()},
    )
    if ticket.assignee_id:
        recipients = [ticket.assignee]
    elif ticket.team is not None:
        recipients = list(ticket.team.members.filter(is_active=True))
    else:
        recipients = _supervisors(ticket.merchant_id)
    _notify(
        ticket,
        recipients,
        "sla_warning",
        target,
        {"due_at": _local_time(ticket, deadline.due_at)},
    )


def _on_breach(deadline: Deadline) -> None:
    """Escalate: level up, record the breach, tell the supervisors, reassign if the policy says so."""
    ticket = Ticket.objects.select_for_update().select_related("merchant").get(pk=deadline.ticket_id)
    policy = SlaPolicy.objects.filter(pk=deadline.payload.get("policy")).first()
    target = target_of(deadline.kind)
    ticket.escalation_level += 1
    changed = ["escalation_level", "updated_at"]
    SlaBreach.objects.create(
        merchant_id=ticket.merchant_id,
        ticket=ticket,
        policy=policy,
        deadline=deadline,
        target=target,
        target_minutes=deadline.target_minutes,
        due_at=deadline.due_at,
        # The target was missed the moment it fell due; a late sweep must not move that moment.
        breached_at=deadline.due_at,
    )
    event_append(
        ticket,
        TicketEvent.Verb.SLA_BREACHED,
        data={
            "target": target,
            "due_at": deadline.due_at.isoformat(),
            "policy": policy.name if policy else "",
            "escalation_level": ticket.escalation_level,
        },
    )
    if policy is not None and (policy.breach_assignee_id or policy.breach_team_id):
        new_assignee = policy.breach_assignee if policy.breach_assignee_id else ticket.assignee
        if (
            new_assignee is not None
            and not Membership.objects.filter(
                Q(user=new_assignee) & Q(merchant_id=ticket.merchant_id, is_active=True)
            ).exists()
        ):
            new_assignee = ticket.assignee
        new_team = policy.breach_team if policy.breach_team_id else ticket.team
        if (new_assignee, new_team) != (ticket.assignee, ticket.team):
            event_append(
                ticket,
                TicketEvent.Verb.ASSIGNED,
                data={
                    "from": ticket.assignee_id,
                    "to": new_assignee.pk if new_assignee else None,
                    "to_name": str(new_assignee) if new_assignee else "",
                    "team": new_team.name if new_team else "",
                    "reason": "sla_breach",
                },
            )
            ticket.assignee, ticket.team = new_assignee, new_team
            changed += ["assignee", "team"]
    ticket.save(update_fields=changed)
    _notify(
        ticket,
        _supervisors(ticket.merchant_id),
        "sla_breached",
        target,
        {
            "due_at": _local_time(ticket, deadline.due_at),
            "level": ticket.escalation_level,
        },
    )


def register_handlers() -> None:
    for target in SlaTarget.values:
        timers.register(kind_of(target), on_due=_on_breach, on_warning=_on_warning)
