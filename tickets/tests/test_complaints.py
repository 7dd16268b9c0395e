"""Complaint handling: classification, responsibility with a third party's own deadline,
escalation tiers (the customer asks once per tier), compensation within approval limits and paid
once, regulator clocks in working days through a real sweep, and close-out with root cause."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from aftersales.exceptions import Conflict, InvalidInput, PermissionRefused, TransitionNotAllowed
from aftersales.models import BusinessCalendar, CalendarDay, Deadline, Membership, Notification, WorkingHours
from aftersales.services.deadlines import deadlines_sweep
from aftersales.tests.factories import MembershipFactory, OrderFactory
from aftersales.tests.races import race_errors
from tickets.models import (
    Compensation,
    CompensationCoupon,
    CompensationKind,
    CompensationSettings,
    CompensationStatus,
    Complaint,
    ComplaintEscalation,
    ComplaintVerb,
    RegulatorChannel,
    ResponsibleParty,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from tickets.services import ticket_create
from tickets.services.complaints import (
    REGULATOR_ACCEPTANCE_KIND,
    THIRD_PARTY_KIND,
    TIER_KIND,
    compensation_answer,
    compensation_approve,
    compensation_pay,
    compensation_propose,
    complaint_classify,
    complaint_close_out,
    complaint_escalate,
    complaint_record_third_party_answer,
    complaint_set_responsibility,
    regulator_case_accept,
    regulator_case_record,
)

# Monday 2026-11-23 10:00 in Shanghai (02:00 UTC); the desk works 09:00–18:00 on weekdays.
MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _open_complaint(order):
    return ticket_create(
        merchant=order.merchant,
        kind=TicketKind.COMPLAINT,
        subject="The courier threw the parcel",
        body="The box arrived crushed and nobody answers.",
        customer=order.customer,
        channel=TicketChannel.PORTAL,
        order=order,
    )


@pytest.fixture
def calendar(merchant):
    calendar = BusinessCalendar.objects.create(merchant=merchant, name="Desk")
    for weekday in range(5):
        WorkingHours.objects.create(calendar=calendar, weekday=weekday, start_minute=9 * 60, end_minute=18 * 60)
    return calendar


@pytest.fixture
def admin_user(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.MERCHANT_ADMIN).user


@pytest.fixture
def complaint_ticket(order, calendar):
    with time_machine.travel(MONDAY_10, tick=False):
        return _open_complaint(order)


def events(ticket, verb):
    return list(TicketEvent.objects.filter(ticket=ticket, verb=verb).order_by("id"))


# --- classification and responsibility ------------------------------------------------------------


@time_machine.travel(MONDAY_10, tick=False)
def test_classifying_opens_the_complaint_with_the_agent_tiers_clock(complaint_ticket, agent):
    complaint = complaint_classify(ticket=complaint_ticket, actor=agent, severity="serious", category="delivery")

    assert (complaint.severity, complaint.category, complaint.tier) == ("serious", "delivery", 0)
    # 24 business hours from Monday 10:00 on 09:00-18:00 days (8 + 9 + 7): Wednesday 16:00 Shanghai.
    assert complaint.tier_due_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert Deadline.objects.get(ticket=complaint_ticket, kind=TIER_KIND).state == Deadline.State.PENDING
    assert len(events(complaint_ticket, ComplaintVerb.CLASSIFIED)) == 1


def test_a_ticket_that_is_not_a_complaint_is_refused_and_nothing_is_written(make_ticket, agent):
    ticket = make_ticket(kind=TicketKind.SUPPORT)

    with pytest.raises(InvalidInput):
        complaint_classify(ticket=ticket, actor=agent, severity="serious", category="delivery")

    assert Complaint.objects.count() == 0
    assert not Deadline.objects.filter(kind=TIER_KIND).exists()


@time_machine.travel(MONDAY_10, tick=False)
def test_a_responsible_carrier_gets_its_own_shorter_deadline_and_the_case_waits_on_it(complaint_ticket, agent):
    complaint = complaint_set_responsibility(
        ticket=complaint_ticket,
        actor=agent,
        party=ResponsibleParty.CARRIER,
        evidence="Photo of the crushed box; the carrier's scan shows a drop.",
        third_party_name="SF Express",
    )

    # 16 business hours from Monday 10:00: Tuesday 17:00 Shanghai.
    assert complaint.third_party_due_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert Deadline.objects.get(ticket=complaint_ticket, kind=THIRD_PARTY_KIND).due_at == complaint.third_party_due_at
    assert Ticket.objects.get(pk=complaint_ticket.pk).status == TicketStatus.WAITING_THIRD_PARTY
    assert complaint.tier_due_at > complaint.third_party_due_at


def test_responsibility_without_evidence_is_refused_and_nothing_changes(complaint_ticket, agent):
    with pytest.raises(InvalidInput):
        complaint_set_responsibility(ticket=complaint_ticket, actor=agent, party="carrier", evidence="  ")

    assert Complaint.objects.count() == 0
    assert Ticket.objects.get(pk=complaint_ticket.pk).status == TicketStatus.NEW


def test_the_third_partys_answer_is_recorded_meets_its_deadline_and_reopens_the_case(complaint_ticket, agent):
    complaint_set_responsibility(ticket=complaint_ticket, actor=agent, party="supplier", evidence="Batch 42 defect")

    complaint = complaint_record_third_party_answer(
        ticket=complaint_ticket, actor=agent, answer="The supplier replaces the unit."
    )

    assert complaint.third_party_answer == "The supplier replaces the unit."
    assert Deadline.objects.get(ticket=complaint_ticket, kind=THIRD_PARTY_KIND).state == Deadline.State.MET
    assert Ticket.objects.get(pk=complaint_ticket.pk).status == TicketStatus.OPEN
    with pytest.raises(Conflict):
        complaint_record_third_party_answer(ticket=complaint_ticket, actor=agent, answer="Again")


# --- escalation -----------------------------------------------------------------------------------


def test_the_customer_may_ask_for_escalation_once_per_tier(complaint_ticket, agent):
    customer = complaint_ticket.customer
    complaint_escalate(ticket=complaint_ticket, customer=customer, expected_tier=0, reason="Nobody answers")

    # The same request again (a second click, a reload): refused, nothing changes.
    with pytest.raises(Conflict):
        complaint_escalate(ticket=complaint_ticket, customer=customer, expected_tier=0, reason="Again")
    complaint = Complaint.objects.get(ticket=complaint_ticket)
    assert complaint.tier == 1
    assert ComplaintEscalation.objects.filter(complaint=complaint).count() == 1

    complaint_escalate(ticket=complaint_ticket, customer=customer, expected_tier=1, reason="Still nothing")
    assert Complaint.objects.get(ticket=complaint_ticket).tier == 2
    with pytest.raises(TransitionNotAllowed):
        complaint_escalate(ticket=complaint_ticket, customer=customer, expected_tier=2)
    with pytest.raises(TransitionNotAllowed):
        complaint_escalate(ticket=complaint_ticket, actor=agent)
    assert len(events(complaint_ticket, ComplaintVerb.ESCALATED)) == 2
    assert list(ComplaintEscalation.objects.values_list("from_tier", "to_tier", "by_customer")) == [
        (0, 1, True),
        (1, 2, True),
    ]


def test_another_customer_may_not_escalate(complaint_ticket):
    stranger = OrderFactory(merchant=complaint_ticket.merchant).customer

    with pytest.raises(PermissionRefused):
        complaint_escalate(ticket=complaint_ticket, customer=stranger, expected_tier=0)

    assert Complaint.objects.filter(ticket=complaint_ticket, tier__gt=0).count() == 0


def test_when_a_tiers_time_runs_out_the_sweep_moves_the_complaint_up(complaint_ticket, agent, supervisor):
    with time_machine.travel(MONDAY_10, tick=False):
        complaint_classify(ticket=complaint_ticket, actor=agent, severity="normal", category="service")

    with time_machine.travel(datetime(2026, 11, 25, 7, 59, tzinfo=UTC), tick=False):
        deadlines_sweep()
    assert Complaint.objects.get(ticket=complaint_ticket).tier == 0
    with time_machine.travel(datetime(2026, 11, 25, 8, 0, 30, tzinfo=UTC), tick=False):
        deadlines_sweep()

    complaint = Complaint.objects.get(ticket=complaint_ticket)
    assert complaint.tier == 1
    # The supervisor tier's 8 business hours start at the sweep (Wednesday 16:00:30): 2 hours
    # that day and 6 on Thursday, to 15:00:30 Shanghai.
    assert complaint.tier_due_at == datetime(2026, 11, 26, 7, 0, 30, tzinfo=UTC)
    assert len(events(complaint_ticket, ComplaintVerb.TIER_OVERDUE)) == 1
    assert Notification.objects.filter(template="complaint_alert", recipient=supervisor.email).exists()


# --- compensation ---------------------------------------------------------------------------------


@pytest.fixture
def limits(merchant):
    return CompensationSettings.objects.create(
        merchant=merchant, agent_limit=Decimal("50.00"), supervisor_limit=Decimal("500.00")
    )


def test_within_the_agents_limit_the_offer_goes_to_the_customer_at_once(complaint_ticket, agent, limits):
    compensation = compensation_propose(ticket=complaint_ticket, actor=agent, kind="coupon", amount="50")

    assert (compensation.status, compensation.amount, compensation.approved_by) == (
        CompensationStatus.OFFERED,
        Decimal("50.00"),
        agent,
    )
    assert Notification.objects.filter(template="complaint_compensation_offered").count() >= 1


def test_over_the_agents_limit_refused_then_approved_by_a_supervisor_and_paid_once_under_20_replays(
    complaint_ticket, agent, supervisor, limits
):
    compensation = compensation_propose(
        ticket=complaint_ticket, actor=agent, kind=CompensationKind.COUPON, amount="200", note="Crushed box"
    )
    assert compensation.status == CompensationStatus.AWAITING_APPROVAL
    events_before = TicketEvent.objects.filter(ticket=complaint_ticket).count()

    with pytest.raises(PermissionRefused):
        compensation_approve(compensation=compensation, actor=agent)

    refused = Compensation.objects.get(pk=compensation.pk)
    assert (refused.status, refused.approved_by, refused.approved_at) == (
        CompensationStatus.AWAITING_APPROVAL,
        None,
        None,
    )
    assert TicketEvent.objects.filter(ticket=complaint_ticket).count() == events_before

    compensation_approve(compensation=compensation, actor=supervisor)
    compensation_answer(compensation=compensation, customer=complaint_ticket.customer, accept=True)
    for _ in range(20):
        paid = compensation_pay(compensation=compensation, actor=agent)

    coupon = CompensationCoupon.objects.get()
    assert (paid.status, paid.payment_reference, coupon.amount) == (
        CompensationStatus.PAID,
        coupon.code,
        Decimal("200.00"),
    )
    assert [e.verb for e in TicketEvent.objects.filter(ticket=complaint_ticket, verb__startswith="compensation_")] == [
        ComplaintVerb.COMPENSATION_PROPOSED,
        ComplaintVerb.COMPENSATION_APPROVED,
        ComplaintVerb.COMPENSATION_ANSWERED,
        ComplaintVerb.COMPENSATION_PAID,
    ]


def test_above_the_supervisors_limit_only_a_merchant_admin_approves(
    complaint_ticket, agent, supervisor, admin_user, limits
):
    compensation = compensation_propose(ticket=complaint_ticket, actor=agent, kind="coupon", amount="800")

    with pytest.raises(PermissionRefused):
        compensation_approve(compensation=compensation, actor=supervisor)
    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.AWAITING_APPROVAL
    approved = compensation_approve(compensation=compensation, actor=admin_user)

    assert (approved.status, approved.approved_by) == (CompensationStatus.OFFERED, admin_user)


def test_an_offer_not_accepted_cannot_be_paid_and_nothing_is_paid(complaint_ticket, agent, limits):
    compensation = compensation_propose(ticket=complaint_ticket, actor=agent, kind="coupon", amount="20")

    with pytest.raises(TransitionNotAllowed):
        compensation_pay(compensation=compensation, actor=agent)

    assert Compensation.objects.get(pk=compensation.pk).status == CompensationStatus.OFFERED
    assert CompensationCoupon.objects.count() == 0


def test_a_coupon_compensation_issues_one_code(complaint_ticket, agent, limits):
    compensation = compensation_propose(ticket=complaint_ticket, actor=agent, kind="coupon", amount="30")
    compensation_answer(compensation=compensation, actor=agent, accept=True)

    paid = compensation_pay(compensation=compensation, actor=agent)
    compensation_pay(compensation=compensation, actor=agent)

    coupon = CompensationCoupon.objects.get()
    assert (coupon.amount, coupon.code) == (Decimal("30.00"), paid.payment_reference)


def test_a_zero_or_malformed_amount_is_refused(complaint_ticket, agent, limits):
    for amount in ("0", "-5", "abc", ""):
        with pytest.raises(InvalidInput):
            compensation_propose(ticket=complaint_ticket, actor=agent, kind="coupon", amount=amount)

    assert Compensation.objects.count() == 0


# --- regulator clocks -----------------------------------------------------------------------------


@pytest.fixture
def holiday(calendar):
    return CalendarDay.objects.create(calendar=calendar, date=date(2026, 11, 25), kind=CalendarDay.Kind.HOLIDAY)


def test_a_regulator_complaint_gets_its_statutory_clocks_in_working_days(complaint_ticket, agent, holiday):
    with time_machine.travel(MONDAY_10, tick=False):
        case = regulator_case_record(
            ticket=complaint_ticket,
            actor=agent,
            channel=RegulatorChannel.CONSUMER_HOTLINE,
            reference="12315-2026-0001",
            received_on=date(2026, 11, 23),
            answer_due_on=date(2026, 11, 30),
        )

    # 7 working days after Monday 23 November, Wednesday 25 a holiday: to the end of Thursday
    # 3 December in Shanghai.
    assert case.acceptance_due_at == datetime(2026, 12, 3, 16, 0, tzinfo=UTC)
    assert case.answer_due_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 27, 2, 0, tzinfo=UTC), tick=False):
        accepted = regulator_case_accept(case=case, actor=agent, accepted_on=date(2026, 11, 27))
    assert accepted.mediation_due_at == datetime(2027, 1, 11, 16, 0, tzinfo=UTC)
    assert Deadline.objects.get(kind=REGULATOR_ACCEPTANCE_KIND).state == Deadline.State.MET


def test_a_regulator_deadline_fires_through_a_real_sweep(complaint_ticket, agent, supervisor, holiday):
    with time_machine.travel(MONDAY_10, tick=False):
        regulator_case_record(
            ticket=complaint_ticket,
            actor=agent,
            channel=RegulatorChannel.PLATFORM_ARBITRATION,
            reference="TM-ARB-77",
            received_on=date(2026, 11, 23),
            answer_due_on=date(2026, 12, 31),
        )

    with time_machine.travel(datetime(2026, 12, 3, 15, 59, tzinfo=UTC), tick=False):
        deadlines_sweep()
    assert [e.data["which"] for e in events(complaint_ticket, ComplaintVerb.REGULATOR_DEADLINE)] == []
    with time_machine.travel(datetime(2026, 12, 3, 16, 0, 30, tzinfo=UTC), tick=False):
        deadlines_sweep()

    fired = events(complaint_ticket, ComplaintVerb.REGULATOR_DEADLINE)
    assert [(e.data["which"], e.data["reference"]) for e in fired] == [("acceptance", "TM-ARB-77")]
    assert Deadline.objects.get(kind=REGULATOR_ACCEPTANCE_KIND).state == Deadline.State.FIRED
    assert Notification.objects.filter(
        template="complaint_alert", recipient=supervisor.email, context__alert="regulator_acceptance"
    ).exists()


def test_a_regulator_reference_is_recorded_once(complaint_ticket, agent):
    values = {
        "ticket": complaint_ticket,
        "actor": agent,
        "channel": RegulatorChannel.CONSUMER_ASSOCIATION,
        "reference": "CA-1",
        "received_on": date(2026, 11, 23),
        "answer_due_on": date(2026, 11, 30),
    }
    with time_machine.travel(MONDAY_10, tick=False):
        regulator_case_record(**values)
        with pytest.raises(Conflict):
            regulator_case_record(**values)

    assert Deadline.objects.filter(kind=REGULATOR_ACCEPTANCE_KIND).count() == 1


# --- close-out ------------------------------------------------------------------------------------


def test_closing_out_needs_root_cause_and_corrective_action_and_resolves_the_case(complaint_ticket, agent):
    with pytest.raises(InvalidInput):
        complaint_close_out(ticket=complaint_ticket, actor=agent, root_cause="Rough handling", corrective_action="")
    assert Ticket.objects.get(pk=complaint_ticket.pk).status == TicketStatus.NEW

    complaint = complaint_close_out(
        ticket=complaint_ticket,
        actor=agent,
        root_cause="Rough handling at the hub",
        corrective_action="Double-walled boxes for fragile goods",
    )

    assert complaint.closed_out_at is not None
    assert Ticket.objects.get(pk=complaint_ticket.pk).status == TicketStatus.RESOLVED
    assert Deadline.objects.get(ticket=complaint_ticket, kind=TIER_KIND).state == Deadline.State.CANCELLED


# --- races ----------------------------------------------------------------------------------------


@pytest.mark.xdist_group("races")
@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_payments_issue_one_coupon():
    order = OrderFactory()
    agent = MembershipFactory(merchant=order.merchant, role=Membership.Role.AGENT).user
    ticket = _open_complaint(order)
    compensation = compensation_propose(ticket=ticket, actor=agent, kind="coupon", amount="40")
    compensation_answer(compensation=compensation, customer=order.customer, accept=True)
    errors = race_errors(20, lambda _index: compensation_pay(compensation=compensation, actor=agent))

    assert errors == []
    assert CompensationCoupon.objects.filter(merchant=order.merchant).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, verb=ComplaintVerb.COMPENSATION_PAID).count() == 1
