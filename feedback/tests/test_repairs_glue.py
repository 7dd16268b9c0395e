"""feedback and repairs wired together: the technician of the on-site visit is who served the
case (the CSAT is attributed to them and asks after them), a repair that is done schedules the
merchant's repair follow-up once; and a case merged into another gets no survey."""

from datetime import UTC, datetime, timedelta

import time_machine

from feedback.models import FollowUp, FollowUpStatus, FollowUpTrigger, Survey, SurveyKind, SurveyStatus
from feedback.selectors import survey_settings_of
from feedback.services import survey_schedule, survey_send
from feedback.tests.builders import make_world, open_case, resolve, sweep_at
from feedback.tests.factories import FollowUpRuleFactory, SurveySettingsFactory
from repairs.models import RepairMode, RepairStatus, VisitStatus
from repairs.services import repair_collected, repair_confirm, repair_qc
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, VisitFactory
from tickets.models import TicketStatus
from tickets.services.merge import ticket_merge

T0 = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)


def _repair_in_qc(*, mode=RepairMode.ON_SITE, visited=True):
    """A repair in its quality check and the technician who visited it (a day before T0)."""
    repair = OnSiteRepairFactory(mode=mode, status=RepairStatus.QC, ticket__status=TicketStatus.OPEN)
    technician = TechnicianFactory(merchant=repair.merchant)
    if visited:
        VisitFactory(
            repair=repair,
            technician=technician,
            status=VisitStatus.COMPLETED,
            window_start=T0 - timedelta(days=1),
            window_end=T0 - timedelta(days=1) + timedelta(hours=2),
            checked_in_at=T0 - timedelta(days=1),
            checked_out_at=T0 - timedelta(days=1) + timedelta(hours=1),
        )
    return repair, technician


def test_the_technician_of_the_completed_visit_is_asked_after_in_the_repairs_csat(db):
    # given: the visit of one technician, then a later one of another who finished the job
    repair, _first = _repair_in_qc()
    finisher = TechnicianFactory(merchant=repair.merchant)
    VisitFactory(
        repair=repair,
        technician=finisher,
        status=VisitStatus.COMPLETED,
        window_start=T0 - timedelta(hours=4),
        window_end=T0 - timedelta(hours=2),
        checked_in_at=T0 - timedelta(hours=4),
        checked_out_at=T0 - timedelta(hours=3),
    )
    SurveySettingsFactory(merchant=repair.merchant, csat_throttle_days=0)

    # when: quality check passed on site, the repair is returned and the case resolves
    with time_machine.travel(T0, tick=False):
        repair = repair_qc(repair_order=repair, actor=finisher.user, passed=True)

    # then
    assert (repair.status, repair.ticket.status) == (RepairStatus.RETURNED, TicketStatus.RESOLVED)
    survey = Survey.objects.get(ticket=repair.ticket, kind=SurveyKind.CSAT)
    assert (survey.status, survey.technician_id) == (SurveyStatus.SCHEDULED, finisher.user_id)
    assert survey.has_technician_questions is True


def test_a_repair_without_an_on_site_visit_gets_no_technician_questions(db):
    # given: a mail-in repair, repaired at the bench
    repair, workshop = _repair_in_qc(mode=RepairMode.MAIL_IN, visited=False)
    SurveySettingsFactory(merchant=repair.merchant, csat_throttle_days=0)
    repair.status = RepairStatus.READY
    repair.save(update_fields=["status"])

    # when: the customer collects it
    with time_machine.travel(T0, tick=False):
        repair = repair_collected(repair_order=repair, actor=workshop.user)

    # then
    survey = Survey.objects.get(ticket=repair.ticket, kind=SurveyKind.CSAT)
    assert survey.technician_id is None
    assert survey.has_technician_questions is False


def test_a_done_repair_schedules_the_repair_follow_up_once_however_many_done_states_it_passes(db):
    # given: a repair follow-up rule 24 hours after, and a case-resolved rule beside it
    repair, technician = _repair_in_qc()
    repair_rule = FollowUpRuleFactory(merchant=repair.merchant, trigger=FollowUpTrigger.REPAIR_DONE, delay_hours=24)
    resolved_rule = FollowUpRuleFactory(merchant=repair.merchant, trigger=FollowUpTrigger.CASE_RESOLVED)

    # when: returned, then confirmed by the customer (closed)
    with time_machine.travel(T0, tick=False):
        repair = repair_qc(repair_order=repair, actor=technician.user, passed=True)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        repair = repair_confirm(repair_order=repair, customer=repair.customer)

    # then
    assert repair.status == RepairStatus.CLOSED
    repair_followups = list(FollowUp.objects.filter(rule=repair_rule).values_list("source_key", "due_at", "status"))
    assert repair_followups == [(f"repair:{repair.pk}", T0 + timedelta(hours=24), FollowUpStatus.SCHEDULED)]
    assert FollowUp.objects.filter(rule=resolved_rule, ticket=repair.ticket).count() == 1


def test_a_repair_that_is_not_done_schedules_no_repair_follow_up(db):
    # given
    repair, technician = _repair_in_qc()
    FollowUpRuleFactory(merchant=repair.merchant, trigger=FollowUpTrigger.REPAIR_DONE)

    # when: the quality check fails, back to the bench
    repair = repair_qc(repair_order=repair, actor=technician.user, passed=False)

    # then
    assert repair.status == RepairStatus.IN_REPAIR
    assert FollowUp.objects.count() == 0


def test_a_case_merged_into_another_gets_no_survey_and_says_why(db):
    # given: two cases of one customer, the duplicate resolved (its survey scheduled) before merging
    world = make_world()
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        duplicate = open_case(world)
        kept = open_case(world, assign=False)
    resolve(world, duplicate, at=T0)
    assert Survey.objects.get(ticket=duplicate).status == SurveyStatus.SCHEDULED

    # when: merged, then the survey falls due
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        ticket_merge(source=duplicate, target=kept, actor=world.agent)
    sweep_at(T0 + timedelta(days=2))

    # then
    survey = Survey.objects.get(ticket=duplicate)
    assert (survey.status, survey.skip_reason, survey.sent_at) == (SurveyStatus.SKIPPED, "merged", None)
    assert not Survey.objects.filter(ticket=kept).exists()


def test_a_survey_that_falls_due_for_a_merged_case_is_skipped(db):
    # given: a merged case whose survey row is scheduled again (the hub's exclusion is read at send)
    world = make_world()
    SurveySettingsFactory(merchant=world.merchant, csat_throttle_days=0)
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        duplicate = open_case(world)
        kept = open_case(world, assign=False)
    ticket_merge(source=duplicate, target=kept, actor=world.agent)
    duplicate.refresh_from_db()
    survey = survey_schedule(ticket=duplicate, survey_settings=survey_settings_of(world.merchant.pk))

    # when
    survey = survey_send(survey_id=survey.pk)

    # then
    assert (survey.status, survey.skip_reason, survey.sent_at) == (SurveyStatus.SKIPPED, "merged", None)
