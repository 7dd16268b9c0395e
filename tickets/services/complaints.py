"""Every write of complaint handling. Each locks the complaint (or the ticket it hangs off), checks,
writes, appends its event to the ticket's timeline, starts or stops its timers and queues its
notifications in one transaction; a refusal raises before anything is written."""

import secrets
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales import timers
from aftersales.business_time import CalendarSpec
from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import BusinessCalendar, Customer, Deadline, Membership, User
from aftersales.services.deadlines import deadline_cancel, deadline_meet, deadline_schedule
from aftersales.services.staff import staff_membership_required
from tickets import compensation_payers, complaint_rules
from tickets.models import (
    COMPENSATION_PAYMENT_PENDING,
    PAYMENT_ERROR_LIMIT,
    THIRD_PARTIES,
    Compensation,
    CompensationCoupon,
    CompensationKind,
    CompensationSettings,
    CompensationStatus,
    Complaint,
    ComplaintCategory,
    ComplaintEscalation,
    ComplaintSeverity,
    ComplaintVerb,
    EscalationTier,
    RegulatorCase,
    RegulatorChannel,
    ResponsibleParty,
    Ticket,
    TicketKind,
    TicketStatus,
)
from tickets.notify import notify_customer, notify_staff
from tickets.services.tickets import ticket_follow_workflow
from tickets.timeline import event_append

TIER_KIND = "complaint.tier"
THIRD_PARTY_KIND = "complaint.third_party"
REGULATOR_ACCEPTANCE_KIND = "complaint.regulator_acceptance"
REGULATOR_MEDIATION_KIND = "complaint.regulator_mediation"
REGULATOR_ANSWER_KIND = "complaint.regulator_answer"
MAX_TEXT = 5000
MAX_COMPENSATION = Decimal("1000000")
SUPERVISOR_ROLES = (Membership.Role.SUPERVISOR, Membership.Role.MERCHANT_ADMIN)


# --- helpers ------------------------------------------------------------------------------------


def compensation_settings_of(merchant_id: int) -> CompensationSettings:
    """The merchant's limits and tier SLAs; the defaults until an admin sets them."""
    found = CompensationSettings.objects.filter(merchant_id=merchant_id).first()
    return found or CompensationSettings(merchant_id=merchant_id)


def _calendar(merchant_id: int) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(merchant_id=merchant_id, team__isnull=True).first()


def _merchant_zone(ticket: Ticket, calendar: BusinessCalendar | None) -> ZoneInfo:
    return ZoneInfo(calendar.timezone if calendar is not None else ticket.merchant.timezone)


def _text(value: str, *, field: str, required: bool, message: str) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(message, code=f"{field}_required", extra={"field": field})
    if len(value) > MAX_TEXT:
        raise InvalidInput(
            _("At most %(limit)s characters.") % {"limit": MAX_TEXT}, code=f"{field}_too_long", extra={"field": field}
        )
    return value


def _complaint_ticket(ticket: Ticket) -> Ticket:
    if ticket.kind != TicketKind.COMPLAINT:
        raise InvalidInput(_("This ticket is not a complaint."), code="not_a_complaint")
    return ticket


def _lock_complaint_created(ticket: Ticket) -> tuple[Complaint, bool]:
    """The complaint of the ticket, locked (the ticket first: two first writes cannot both create
    it); created with its first tier clock when missing."""
    _complaint_ticket(ticket)
    Ticket.objects.select_for_update().filter(pk=ticket.pk).first()
    complaint = Complaint.objects.select_for_update().filter(ticket=ticket).first()
    if complaint is not None:
        return complaint, False
    complaint = Complaint.objects.create(merchant_id=ticket.merchant_id, ticket=ticket, store_id=ticket.store_id)
    _start_tier_clock(ticket, complaint)
    return complaint, True


def _lock_complaint(ticket: Ticket) -> Complaint:
    return _lock_complaint_created(ticket)[0]


def _start_tier_clock(ticket: Ticket, complaint: Complaint) -> None:
    settings_ = compensation_settings_of(ticket.merchant_id)
    deadline = deadline_schedule(
        ticket=ticket,
        kind=TIER_KIND,
        business_minutes=settings_.tier_hours(complaint.tier) * 60,
        calendar=_calendar(ticket.merchant_id),
        payload={"tier": complaint.tier},
    )
    complaint.tier_due_at = deadline.due_at
    complaint.save(update_fields=["tier_due_at", "updated_at"])


def _supervisors(merchant_id: int) -> list[User]:
    return [
        membership.user
        for membership in Membership.objects.filter(
            merchant_id=merchant_id, is_active=True, role__in=SUPERVISOR_ROLES
        ).select_related("user")
    ]


def _tell_staff(
    ticket: Ticket, alert: str, *, supervisors: bool = False, extra: dict[str, str | int] | None = None
) -> None:
    told: set[int] = set()
    recipients = [ticket.assignee] if ticket.assignee_id else []
    if supervisors or not recipients:
        recipients += _supervisors(ticket.merchant_id)
    for user in recipients:
        if user is not None and user.pk not in told:
            told.add(user.pk)
            notify_staff(ticket, user, "complaint_alert", {"alert": alert, **(extra or {})})


# --- classification and responsibility ----------------------------------------------------------


def complaint_classify(*, ticket: Ticket, actor: User, severity: str, category: str) -> Complaint:
    """Set severity and category (opening the complaint record, and its first tier clock)."""
    if severity not in ComplaintSeverity.values:
        raise InvalidInput(_("Choose a severity."), code="severity_invalid", extra={"field": "severity"})
    if category not in ComplaintCategory.values:
        raise InvalidInput(_("Choose a category."), code="category_invalid", extra={"field": "category"})
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        if (complaint.severity, complaint.category) == (
            severity,
            category,
        ) and complaint.created_at != complaint.updated_at:
            return complaint
        before = {"severity": complaint.severity, "category": complaint.category}
        complaint.severity, complaint.category = severity, category
        complaint.save(update_fields=["severity", "category", "updated_at"])
        event_append(
            ticket,
            ComplaintVerb.CLASSIFIED,
            actor_user=actor,
            data={"from": before, "severity": severity, "category": category},
        )
        if severity == ComplaintSeverity.CRITICAL:
            _tell_staff(ticket, "critical", supervisors=True)
    return complaint


def complaint_set_responsibility(
    *, ticket: Ticket, actor: User, party: str, evidence: str, third_party_name: str = ""
) -> Complaint:
    """Staff decide who is responsible, on evidence. A responsible carrier, supplier or platform
    is asked for an answer on its own, shorter deadline, and the case waits on it."""
    if party not in ResponsibleParty.values:
        raise InvalidInput(_("Choose who is responsible."), code="party_invalid", extra={"field": "party"})
    evidence = _text(evidence, field="evidence", required=True, message=_("Say what shows who is responsible."))
    third_party_name = (third_party_name or "").strip()[:200]
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        ticket = Ticket.objects.get(pk=ticket.pk)
        now = timezone.now()
        complaint.responsible_party = party
        complaint.responsibility_evidence = evidence
        complaint.responsibility_decided_by = actor
        complaint.responsibility_decided_at = now
        complaint.third_party_name = third_party_name if party in THIRD_PARTIES else ""
        complaint.third_party_answer = ""
        complaint.third_party_answered_at = None
        if party in THIRD_PARTIES:
            hours = compensation_settings_of(ticket.merchant_id).third_party_hours
            deadline = deadline_schedule(
                ticket=ticket,
                kind=THIRD_PARTY_KIND,
                business_minutes=hours * 60,
                calendar=_calendar(ticket.merchant_id),
                payload={"party": party},
            )
            complaint.third_party_due_at = deadline.due_at
        else:
            deadline_cancel(ticket=ticket, kind=THIRD_PARTY_KIND)
            complaint.third_party_due_at = None
        complaint.save()
        event_append(
            ticket,
            ComplaintVerb.RESPONSIBILITY,
            actor_user=actor,
            data={
                "party": party,
                "third_party": complaint.third_party_name,
                "due_at": complaint.third_party_due_at.isoformat() if complaint.third_party_due_at else None,
            },
        )
        if party in THIRD_PARTIES and ticket.can_transition_to(TicketStatus.WAITING_THIRD_PARTY):
            ticket_follow_workflow(ticket=ticket, status=TicketStatus.WAITING_THIRD_PARTY, actor_user=actor)
    return complaint


def complaint_record_third_party_answer(*, ticket: Ticket, actor: User, answer: str) -> Complaint:
    answer = _text(answer, field="answer", required=True, message=_("Write down what the third party answered."))
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        if not complaint.is_third_party_responsible:
            raise TransitionNotAllowed(
                _("No third party was found responsible for this complaint."), code="no_third_party"
            )
        if complaint.third_party_answered_at is not None:
            raise Conflict(_("The third party's answer is already recorded."), code="third_party_answered")
        complaint.third_party_answer = answer
        complaint.third_party_answered_at = timezone.now()
        complaint.save(update_fields=["third_party_answer", "third_party_answered_at", "updated_at"])
        deadline_meet(ticket=ticket, kind=THIRD_PARTY_KIND)
        event_append(ticket, ComplaintVerb.THIRD_PARTY_ANSWERED, actor_user=actor, data={"answer": answer[:500]})
        fresh = Ticket.objects.get(pk=ticket.pk)
        if fresh.status == TicketStatus.WAITING_THIRD_PARTY:
            ticket_follow_workflow(ticket=fresh, status=TicketStatus.OPEN, actor_user=actor)
    return complaint


# --- escalation tiers ---------------------------------------------------------------------------


def complaint_escalate(
    *,
    ticket: Ticket,
    actor: User | None = None,
    customer: Customer | None = None,
    expected_tier: int | None = None,
    reason: str = "",
) -> Complaint:
    """Up one tier (agent → supervisor → manager), with the new tier's clock. Staff, the system
    (``actor`` and ``customer`` None: the tier's clock ran out), or the ticket's customer, who may
    ask once per tier: the customer's request names the tier they saw (``expected_tier``), so a
    second click or a replay of the same request is refused instead of climbing another tier."""
    reason = _text(reason, field="reason", required=False, message="")
    with transaction.atomic():
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        if customer is not None and customer.pk != ticket.customer_id:
            raise PermissionRefused(_("Only the customer of this request may ask for escalation."))
        complaint = _lock_complaint(ticket)
        if complaint.closed_out_at is not None:
            raise TransitionNotAllowed(_("This complaint is closed."), code="complaint_closed")
        if complaint.tier >= EscalationTier.MANAGER:
            raise TransitionNotAllowed(_("This complaint is already with a manager."), code="top_tier")
        if customer is not None and (
            expected_tier != complaint.tier
            or ComplaintEscalation.objects.filter(
                complaint=complaint, from_tier=complaint.tier, by_customer=True
            ).exists()
        ):
            raise Conflict(
                _("You already asked for escalation at this level; we will answer you soon."),
                code="escalation_already_requested",
            )
        from_tier = complaint.tier
        complaint.tier = from_tier + 1
        complaint.save(update_fields=["tier", "updated_at"])
        ComplaintEscalation.objects.create(
            merchant_id=ticket.merchant_id,
            complaint=complaint,
            from_tier=from_tier,
            to_tier=complaint.tier,
            by_customer=customer is not None,
            actor_user=actor,
            reason=reason,
        )
        _start_tier_clock(ticket, complaint)
        event_append(
            ticket,
            ComplaintVerb.ESCALATED,
            actor_user=actor,
            actor_customer=customer,
            public=customer is not None,
            data={"from": from_tier, "to": complaint.tier, "reason": reason[:500], "by_customer": customer is not None},
        )
        _tell_staff(Ticket.objects.get(pk=ticket.pk), "escalated", supervisors=True, extra={"tier": complaint.tier})
    return complaint


# --- compensation -------------------------------------------------------------------------------


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(_("Enter an amount."), code="amount_invalid", extra={"field": "amount"}) from exc
    if amount <= 0 or amount >= MAX_COMPENSATION:
        raise InvalidInput(_("Enter an amount above zero."), code="amount_invalid", extra={"field": "amount"})
    return amount


def _may_approve(membership: Membership, amount: Decimal) -> bool:
    limits = compensation_settings_of(membership.merchant_id)
    return complaint_rules.may_approve(
        membership.role, amount, agent_limit=limits.agent_limit, supervisor_limit=limits.supervisor_limit
    )


def _offer_to_customer(ticket: Ticket, compensation: Compensation) -> None:
    notify_customer(
        ticket,
        "complaint_compensation_offered",
        {"amount": str(compensation.amount), "currency": compensation.currency, "kind": compensation.kind},
    )


def _within_available(kind: str, ticket: Ticket, value: Decimal) -> None:
    """An offer paid from a bounded ledger (a refund) is at most what it can still pay; the payer
    checks again under its locks when it pays."""
    available = compensation_payers.compensation_available(kind, ticket)
    if available is None:
        raise InvalidInput(_("This case has no order to refund against."), code="no_order", extra={"field": "kind"})
    if value > available:
        raise Conflict(
            _("At most %(amount)s %(currency)s of this order can still be refunded this way.")
            % {"amount": available, "currency": ticket.merchant.currency},
            code="amount_exceeds_refundable",
            extra={"field": "amount", "refundable": str(available)},
        )


def compensation_propose(*, ticket: Ticket, actor: User, kind: str, amount: object, note: str = "") -> Compensation:
    """An offer: made to the customer at once when it is within the proposer's limit, otherwise
    waiting for someone whose limit covers it."""
    if kind not in CompensationKind.values:
        raise InvalidInput(_("Choose a kind of compensation."), code="kind_invalid", extra={"field": "kind"})
    if compensation_payers.compensation_payer(kind) is None:
        raise InvalidInput(
            _("This kind of compensation cannot be paid here yet."), code="kind_unavailable", extra={"field": "kind"}
        )
    value = _amount(amount)
    note = _text(note, field="note", required=False, message="")
    with transaction.atomic():
        membership = staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        if complaint.closed_out_at is not None:
            raise TransitionNotAllowed(_("This complaint is closed."), code="complaint_closed")
        fresh = Ticket.objects.select_related("merchant").get(pk=ticket.pk)
        if compensation_payers.is_bounded(kind):
            _within_available(kind, fresh, value)
        within = _may_approve(membership, value)
        compensation = Compensation.objects.create(
            merchant_id=ticket.merchant_id,
            complaint=complaint,
            kind=kind,
            amount=value,
            currency=fresh.merchant.currency,
            status=CompensationStatus.OFFERED if within else CompensationStatus.AWAITING_APPROVAL,
            note=note,
            proposed_by=actor,
            approved_by=actor if within else None,
            approved_at=timezone.now() if within else None,
        )
        event_append(
            fresh,
            ComplaintVerb.COMPENSATION_PROPOSED,
            actor_user=actor,
            data={"compensation": compensation.pk, "kind": kind, "amount": str(value), "approved": within},
        )
        if within:
            _offer_to_customer(fresh, compensation)
        else:
            _tell_staff(fresh, "approval", supervisors=True, extra={"amount": str(value)})
    return compensation


def _lock_compensation(compensation: Compensation) -> Compensation:
    return Compensation.objects.select_for_update().select_related("complaint__ticket").get(pk=compensation.pk)


def _move(compensation: Compensation, status: str) -> None:
    if not compensation.can_transition_to(status):
        raise TransitionNotAllowed(
            _("A compensation that is %(current)s cannot become %(target)s.")
            % {"current": compensation.get_status_display(), "target": CompensationStatus(status).label},
            code="compensation_transition_not_allowed",
        )
    compensation.status = status


def compensation_approve(*, compensation: Compensation, actor: User) -> Compensation:
    """Approve an offer above its proposer's limit: only someone whose own limit covers it."""
    with transaction.atomic():
        membership = staff_membership_required(actor=actor, merchant_id=compensation.merchant_id)
        compensation = _lock_compensation(compensation)
        _move(compensation, CompensationStatus.OFFERED)
        if not _may_approve(membership, compensation.amount):
            raise PermissionRefused(
                _("%(amount)s %(currency)s is above what your role may approve.")
                % {"amount": compensation.amount, "currency": compensation.currency},
                code="over_approval_limit",
            )
        compensation.approved_by = actor
        compensation.approved_at = timezone.now()
        compensation.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        ticket = compensation.complaint.ticket
        event_append(
            ticket,
            ComplaintVerb.COMPENSATION_APPROVED,
            actor_user=actor,
            data={"compensation": compensation.pk, "amount": str(compensation.amount)},
        )
        _offer_to_customer(ticket, compensation)
    return compensation


def compensation_answer(
    *, compensation: Compensation, accept: bool, customer: Customer | None = None, actor: User | None = None
) -> Compensation:
    """The customer accepts or declines, in the portal (``customer``) or by phone (``actor``)."""
    with transaction.atomic():
        compensation = _lock_compensation(compensation)
        ticket = compensation.complaint.ticket
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=compensation.merchant_id)
        elif customer is None or customer.pk != ticket.customer_id:
            raise PermissionRefused(_("Only the customer of this request may answer this offer."))
        _move(compensation, CompensationStatus.ACCEPTED if accept else CompensationStatus.DECLINED)
        compensation.answered_at = timezone.now()
        compensation.save(update_fields=["status", "answered_at", "updated_at"])
        event_append(
            ticket,
            ComplaintVerb.COMPENSATION_ANSWERED,
            actor_user=actor,
            actor_customer=customer,
            public=True,
            data={"compensation": compensation.pk, "accepted": accept},
        )
    return compensation


def compensation_pay(*, compensation: Compensation, actor: User | None) -> Compensation:
    """Pay an accepted offer through its kind's payer, once: a replay (a second click, a retried
    task) finds it granted or paid and returns it unchanged. The payer's idempotency key is the
    offer (``payment_reference``).

    A payer that pays at once (a coupon, store credit) makes the offer paid. One that pays through
    a gateway (a refund) makes it granted: it is paid when the gateway's payout is recorded
    (``compensation_payment_recorded``). An offer whose payment failed is paid again here, under
    the same reference, so the gateway pays it at most once."""
    with transaction.atomic():
        if actor is not None:
            staff_membership_required(actor=actor, merchant_id=compensation.merchant_id)
        compensation = _lock_compensation(compensation)
        if compensation.status in (CompensationStatus.PAID, CompensationStatus.GRANTED):
            return compensation
        retry = compensation.status == CompensationStatus.PAYMENT_FAILED
        later = compensation_payers.settles_later(compensation.kind)
        _move(compensation, CompensationStatus.GRANTED if later else CompensationStatus.PAID)
        reference = compensation.payment_reference or f"compensation-{compensation.pk}"
        paid_reference = compensation_payers.pay(
            compensation.kind, compensation=compensation, actor=actor, reference=reference
        )[:100]
        now = timezone.now()
        compensation.granted_at = compensation.granted_at or now
        compensation.payment_reference = paid_reference
        compensation.payment_error = ""
        if not later:
            compensation.paid_at = now
        compensation.save(
            update_fields=["status", "granted_at", "paid_at", "payment_reference", "payment_error", "updated_at"]
        )
        ticket = compensation.complaint.ticket
        if retry:
            verb = ComplaintVerb.COMPENSATION_PAYMENT_RETRIED
        else:
            verb = ComplaintVerb.COMPENSATION_GRANTED if later else ComplaintVerb.COMPENSATION_PAID
        event_append(
            ticket,
            verb,
            actor_user=actor,
            public=not retry,
            data={"compensation": compensation.pk, "amount": str(compensation.amount), "reference": paid_reference},
        )
    return compensation


def compensation_payment_recorded(
    *, merchant_id: int, ticket_id: int, reference: str, paid: bool, error: str = ""
) -> Compensation | None:
    """A ledger reports the outcome of a granted offer's payment (``reference``: the key it was
    paid under), in the ledger's transaction: paid, or failed with the gateway's ``error``. None
    when no offer was paid under that reference (a refund of another origin). A success stands
    whatever came before it; a failure after a success changes nothing."""
    compensation = (
        Compensation.objects.select_for_update()
        .select_related("complaint__ticket")
        .filter(merchant_id=merchant_id, complaint__ticket_id=ticket_id, payment_reference=reference)
        .first()
    )
    if compensation is None:
        return None
    if paid:
        if not compensation.can_transition_to(CompensationStatus.PAID):
            return compensation
        compensation.status = CompensationStatus.PAID
        compensation.paid_at = timezone.now()
        compensation.payment_error = ""
        compensation.save(update_fields=["status", "paid_at", "payment_error", "updated_at"])
        event_append(
            compensation.complaint.ticket,
            ComplaintVerb.COMPENSATION_PAID,
            public=True,
            data={"compensation": compensation.pk, "amount": str(compensation.amount), "reference": reference},
        )
        return compensation
    if compensation.status not in COMPENSATION_PAYMENT_PENDING:
        return compensation
    # Failed again (a retry from the refunds box): the latest reason is the one shown.
    compensation.status = CompensationStatus.PAYMENT_FAILED
    compensation.payment_error = (error or "").strip()[:PAYMENT_ERROR_LIMIT] or _("The payment failed.")
    compensation.save(update_fields=["status", "payment_error", "updated_at"])
    ticket = compensation.complaint.ticket
    event_append(
        ticket,
        ComplaintVerb.COMPENSATION_PAYMENT_FAILED,
        data={"compensation": compensation.pk, "amount": str(compensation.amount), "error": compensation.payment_error},
    )
    _tell_staff(ticket, "compensation_payment_failed", extra={"amount": str(compensation.amount)})
    return compensation


def compensation_payment_voided(*, merchant_id: int, ticket_id: int, reference: str, actor: User | None) -> None:
    """The ledger voided a granted offer's payment before its money left: the offer is withdrawn
    (in the ledger's transaction), so it is neither shown nor counted as pending."""
    compensation = (
        Compensation.objects.select_for_update()
        .select_related("complaint__ticket")
        .filter(merchant_id=merchant_id, complaint__ticket_id=ticket_id, payment_reference=reference)
        .first()
    )
    if compensation is None or compensation.status not in COMPENSATION_PAYMENT_PENDING:
        return
    compensation.status = CompensationStatus.WITHDRAWN
    compensation.save(update_fields=["status", "updated_at"])
    event_append(
        compensation.complaint.ticket,
        ComplaintVerb.COMPENSATION_WITHDRAWN,
        actor_user=actor,
        data={"compensation": compensation.pk, "reason": "payment_voided"},
    )


def compensation_withdraw(*, compensation: Compensation, actor: User, reason: str = "") -> Compensation:
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=compensation.merchant_id)
        compensation = _lock_compensation(compensation)
        if compensation.status in COMPENSATION_PAYMENT_PENDING:
            # Its money may be on its way: only voiding the payment in its ledger withdraws it.
            raise TransitionNotAllowed(
                _("This compensation is being paid; void its payment to withdraw it."),
                code="compensation_payment_under_way",
            )
        _move(compensation, CompensationStatus.WITHDRAWN)
        compensation.save(update_fields=["status", "updated_at"])
        event_append(
            compensation.complaint.ticket,
            ComplaintVerb.COMPENSATION_WITHDRAWN,
            actor_user=actor,
            data={"compensation": compensation.pk, "reason": (reason or "")[:500]},
        )
    return compensation


def coupon_pay(*, compensation: Compensation, actor: User | None, reference: str) -> str:
    """The hub's own payer: a coupon code of the compensation's value."""

    coupon, _created = CompensationCoupon.objects.get_or_create(
        compensation=compensation,
        defaults={
            "merchant_id": compensation.merchant_id,
            "code": "CP" + secrets.token_hex(6).upper(),
            "amount": compensation.amount,
            "currency": compensation.currency,
        },
    )
    return coupon.code


# --- regulator complaints -----------------------------------------------------------------------


def regulator_case_record(
    *, ticket: Ticket, actor: User, channel: str, reference: str, received_on: date, answer_due_on: date
) -> RegulatorCase:
    """A complaint lodged with 12315, a consumer association or a platform's arbitration: its
    reference, the regulator's acceptance clock (7 working days on the merchant's calendar) and
    the date by which the merchant must answer."""
    if channel not in RegulatorChannel.values:
        raise InvalidInput(_("Choose the regulator."), code="channel_invalid", extra={"field": "channel"})
    reference = _text(reference, field="reference", required=True, message=_("Enter the regulator's reference."))[:100]
    today = timezone.localdate()
    if received_on > today:
        raise InvalidInput(
            _("The day it was received cannot be in the future."),
            code="received_in_future",
            extra={"field": "received_on"},
        )
    if answer_due_on < received_on:
        raise InvalidInput(
            _("The answer is due after the complaint was received."),
            code="answer_before_receipt",
            extra={"field": "answer_due_on"},
        )
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        if RegulatorCase.objects.filter(merchant_id=ticket.merchant_id, channel=channel, reference=reference).exists():
            raise Conflict(_("This regulator reference is already recorded."), code="regulator_reference_exists")
        calendar = _calendar(ticket.merchant_id)
        spec = CalendarSpec.from_calendar(calendar) if calendar is not None else None
        zone = _merchant_zone(ticket, calendar)
        case = RegulatorCase.objects.create(
            merchant_id=ticket.merchant_id,
            complaint=complaint,
            channel=channel,
            reference=reference,
            received_on=received_on,
            acceptance_due_at=complaint_rules.acceptance_due(spec, received_on, zone),
            answer_due_at=complaint_rules.end_of_day(answer_due_on, zone),
        )
        key = str(case.pk)
        deadline_schedule(ticket=ticket, kind=REGULATOR_ACCEPTANCE_KIND, key=key, due_at=case.acceptance_due_at)
        deadline_schedule(ticket=ticket, kind=REGULATOR_ANSWER_KIND, key=key, due_at=case.answer_due_at)
        event_append(
            ticket,
            ComplaintVerb.REGULATOR_RECORDED,
            actor_user=actor,
            data={
                "case": case.pk,
                "channel": channel,
                "reference": reference,
                "acceptance_due_at": case.acceptance_due_at.isoformat(),
                "answer_due_at": case.answer_due_at.isoformat(),
            },
        )
        _tell_staff(ticket, "regulator", supervisors=True, extra={"reference": reference})
    return case


def _lock_case(case: RegulatorCase) -> RegulatorCase:
    return RegulatorCase.objects.select_for_update().select_related("complaint__ticket__merchant").get(pk=case.pk)


def regulator_case_accept(*, case: RegulatorCase, actor: User, accepted_on: date) -> RegulatorCase:
    """The regulator accepted: the mediation clock (45 days) starts."""
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=case.merchant_id)
        case = _lock_case(case)
        if case.accepted_on is not None:
            raise Conflict(_("The acceptance is already recorded."), code="regulator_already_accepted")
        if accepted_on < case.received_on or accepted_on > timezone.localdate():
            raise InvalidInput(
                _("It was accepted after it was received, and not in the future."),
                code="accepted_on_invalid",
                extra={"field": "accepted_on"},
            )
        ticket = case.complaint.ticket
        calendar = _calendar(ticket.merchant_id)
        case.accepted_on = accepted_on
        case.mediation_due_at = complaint_rules.mediation_due(accepted_on, _merchant_zone(ticket, calendar))
        case.save(update_fields=["accepted_on", "mediation_due_at", "updated_at"])
        key = str(case.pk)
        deadline_meet(ticket=ticket, kind=REGULATOR_ACCEPTANCE_KIND, key=key)
        deadline_schedule(ticket=ticket, kind=REGULATOR_MEDIATION_KIND, key=key, due_at=case.mediation_due_at)
        event_append(
            ticket,
            ComplaintVerb.REGULATOR_ACCEPTED,
            actor_user=actor,
            data={"case": case.pk, "mediation_due_at": case.mediation_due_at.isoformat()},
        )
    return case


def regulator_case_answer(*, case: RegulatorCase, actor: User, outcome: str) -> RegulatorCase:
    outcome = _text(outcome, field="outcome", required=True, message=_("Write down what was answered."))
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=case.merchant_id)
        case = _lock_case(case)
        if case.answered_at is not None:
            raise Conflict(_("The answer is already recorded."), code="regulator_already_answered")
        case.answered_at = timezone.now()
        case.outcome = outcome
        case.save(update_fields=["answered_at", "outcome", "updated_at"])
        ticket = case.complaint.ticket
        deadline_meet(ticket=ticket, kind=REGULATOR_ANSWER_KIND, key=str(case.pk))
        event_append(ticket, ComplaintVerb.REGULATOR_ANSWERED, actor_user=actor, data={"case": case.pk})
    return case


# --- closing out --------------------------------------------------------------------------------


def complaint_close_out(*, ticket: Ticket, actor: User, root_cause: str, corrective_action: str) -> Complaint:
    """Record why it happened and what changes so that it does not happen again, and resolve the
    case. Both are required: that is what a complaint teaches (ISO 10002)."""
    root_cause = _text(root_cause, field="root_cause", required=True, message=_("Write down the root cause."))
    corrective_action = _text(
        corrective_action, field="corrective_action", required=True, message=_("Write down the corrective action.")
    )
    with transaction.atomic():
        staff_membership_required(actor=actor, merchant_id=ticket.merchant_id)
        complaint = _lock_complaint(ticket)
        if complaint.closed_out_at is not None:
            raise Conflict(_("This complaint is already closed out."), code="complaint_closed")
        fresh = Ticket.objects.get(pk=ticket.pk)
        if not (fresh.status == TicketStatus.RESOLVED or fresh.can_transition_to(TicketStatus.RESOLVED)):
            raise TransitionNotAllowed(_("This case can no longer be resolved."), code="ticket_final")
        complaint.root_cause = root_cause
        complaint.corrective_action = corrective_action
        complaint.closed_out_at = timezone.now()
        complaint.save(update_fields=["root_cause", "corrective_action", "closed_out_at", "updated_at"])
        deadline_cancel(ticket=fresh, kind=TIER_KIND)
        event_append(
            fresh,
            ComplaintVerb.CLOSED_OUT,
            actor_user=actor,
            data={"root_cause": root_cause[:500], "corrective_action": corrective_action[:500]},
        )
        ticket_follow_workflow(ticket=fresh, status=TicketStatus.RESOLVED, actor_user=actor)
    return complaint


# --- timers -------------------------------------------------------------------------------------


def _on_tier_due(deadline: Deadline) -> None:
    """A tier's answer time ran out: up to the next tier (a manager's overdue tier is told)."""
    ticket = Ticket.objects.get(pk=deadline.ticket_id)
    complaint = Complaint.objects.filter(ticket=ticket).first()
    if complaint is None or complaint.closed_out_at is not None or not ticket.is_active:
        return
    event_append(ticket, ComplaintVerb.TIER_OVERDUE, data={"tier": complaint.tier})
    if complaint.tier < EscalationTier.MANAGER:
        complaint_escalate(ticket=ticket, reason=_("The tier's answer time ran out."))
    else:
        _tell_staff(ticket, "tier_overdue", supervisors=True)


def _on_third_party_due(deadline: Deadline) -> None:
    ticket = Ticket.objects.get(pk=deadline.ticket_id)
    event_append(ticket, ComplaintVerb.THIRD_PARTY_OVERDUE, data={"party": deadline.payload.get("party", "")})
    _tell_staff(ticket, "third_party_overdue", supervisors=True)


def _on_regulator_due(deadline: Deadline) -> None:
    ticket = Ticket.objects.get(pk=deadline.ticket_id)
    case = RegulatorCase.objects.filter(pk=int(deadline.key), merchant_id=ticket.merchant_id).first()
    which = deadline.kind.removeprefix("complaint.regulator_")
    event_append(
        ticket,
        ComplaintVerb.REGULATOR_DEADLINE,
        data={"case": deadline.key, "which": which, "reference": case.reference if case else ""},
    )
    _tell_staff(ticket, f"regulator_{which}", supervisors=True, extra={"reference": case.reference if case else ""})


def register_complaint_handlers() -> None:
    timers.register(TIER_KIND, on_due=_on_tier_due)
    timers.register(THIRD_PARTY_KIND, on_due=_on_third_party_due)
    for kind in (REGULATOR_ACCEPTANCE_KIND, REGULATOR_MEDIATION_KIND, REGULATOR_ANSWER_KIND):
        timers.register(kind, on_due=_on_regulator_due)
    compensation_payers.register_compensation_payer(CompensationKind.COUPON, coupon_pay)
