"""Every write of surveys: schedule one when a case resolves, send it and remind once from the
sweep, record (and change) the customer's answer from the signed link's page or the portal, and
NPS on the merchant's cadence.

A survey link is only read on GET; only a POST of the page's form reaches ``survey_respond``,
so a mail scanner that follows the link records nothing."""

from datetime import timedelta
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput, TransitionNotAllowed
from aftersales.models import Customer, Deadline
from feedback import timers
from feedback.contributors import served_by, survey_excluded
from feedback.deadline_kinds import SURVEY_NPS
from feedback.links import survey_token
from feedback.locks import survey_lock
from feedback.models import RecoveryCase, RecoveryTrigger, Survey, SurveyKind, SurveySettings, SurveyStatus
from feedback.models.surveys import CES_SCORES, CSAT_SCORES, NPS_SCORES, TECHNICIAN_SCORES
from feedback.reasons import nps_category, reasons_for
from feedback.selectors import MERGED, customer_had_survey_since, survey_settings_of
from feedback.services.recovery import recovery_open
from feedback.timeline import RECOVERY_RATING_NOTE, FeedbackVerb
from tickets.models import Ticket, TicketStatus
from tickets.notify import notify_customer
from tickets.system_texts import system_text_source
from tickets.timeline import event_append

MAX_COMMENT_LENGTH = 2000
# Statuses of a case a survey may still go out for (a case closed after resolving still counts).
SURVEYABLE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class SkipReason:
    THROTTLED = "throttled"
    EXCLUDED_TAG = "excluded_tag"
    REOPENED = "not_resolved"
    NO_CHANNEL = "no_channel"
    DISABLED = "disabled"


def survey_url(survey: Survey) -> str:
    token = survey_token(survey_id=survey.pk, nonce=str(survey.nonce))
    path = reverse("portal:survey", kwargs={"merchant_slug": survey.merchant.slug, "token": token})
    return str(django_settings.SITE_URL) + path


def _is_recovery_ticket(ticket: Ticket) -> bool:
    return RecoveryCase.objects.filter(recovery_ticket_id=ticket.pk).exists()


# --- the hub's listener ------------------------------------------------------------------------


def surveys_on_ticket_status(*, ticket: Ticket, previous: str, status: str) -> None:
    """Inside the hub's status change (the ticket is locked): schedule the CSAT when the case
    resolves, cancel it if the case reopens before it went out; restart the customer's NPS clock."""
    if status == TicketStatus.RESOLVED:
        if _is_recovery_ticket(ticket):
            return
        survey_settings = survey_settings_of(ticket.merchant_id)
        if survey_settings.csat_enabled:
            survey_schedule(ticket=ticket, survey_settings=survey_settings)
        if survey_settings.nps_enabled:
            nps_clock_restart(ticket=ticket, survey_settings=survey_settings)
    elif previous == TicketStatus.RESOLVED and status != TicketStatus.CLOSED:
        survey = Survey.objects.filter(ticket_id=ticket.pk, kind=SurveyKind.CSAT, status=SurveyStatus.SCHEDULED).first()
        if survey is not None:
            survey.status = SurveyStatus.CANCELLED
            survey.save(update_fields=["status", "updated_at"])
            timers.survey_send_cancel(ticket=ticket)


def surveys_on_ticket_merged(*, source: Ticket, target: Ticket) -> None:
    """The hub's merge listener: the merged case's scheduled survey is not sent (the hub cancelled
    its timer with the case's other deadlines); the row says why. The customer is asked about the
    case their conversation continues in."""
    survey = (
        Survey.objects.select_for_update()
        .filter(ticket_id=source.pk, kind=SurveyKind.CSAT, status=SurveyStatus.SCHEDULED)
        .first()
    )
    if survey is not None:
        _skip(survey, MERGED)


def survey_schedule(*, ticket: Ticket, survey_settings: SurveySettings) -> Survey | None:
    """The case's one CSAT, due ``csat_delay_hours`` from now, with who served the case now.
    A case that already had its survey sent gets none again."""
    now = timezone.now()
    served = served_by(ticket)
    send_at = now + timedelta(hours=survey_settings.csat_delay_hours)
    attribution = {
        "agent": served.agent,
        "team": served.team,
        "technician": served.technician,
        "resolved_at": now,
        "send_at": send_at,
    }
    survey, created = Survey.objects.get_or_create(
        ticket=ticket,
        kind=SurveyKind.CSAT,
        defaults={"merchant_id": ticket.merchant_id, "customer_id": ticket.customer_id, **attribution},
    )
    if not created:
        if not survey.can_transition_to(SurveyStatus.SCHEDULED) and survey.status != SurveyStatus.SCHEDULED:
            return None  # sent, answered or skipped: once per case
        for field, value in attribution.items():
            setattr(survey, field, value)
        survey.status = SurveyStatus.SCHEDULED
        survey.save(update_fields=[*attribution, "status", "updated_at"])
    # No event: the case's timeline says when the survey went out (or why not), not that one is
    # pending; the staff box shows the scheduled survey and who it is attributed to.
    timers.survey_send_schedule(ticket=ticket, survey_id=survey.pk, at=send_at)
    return survey


def _skip(survey: Survey, reason: str) -> Survey:
    survey.status = SurveyStatus.SKIPPED
    survey.skip_reason = reason
    survey.save(update_fields=["status", "skip_reason", "updated_at"])
    event_append(survey.ticket, FeedbackVerb.SURVEY_SKIPPED, data={"survey": survey.pk, "reason": reason})
    return survey


def survey_send(*, survey_id: int) -> Survey:
    """What the sweep does when the survey falls due: send it on the customer's channels in their
    language, unless the case reopened, carries an excluded tag, or the customer had a survey in
    the merchant's throttle window (then it is recorded as not sent, and why)."""
    with transaction.atomic():
        survey = survey_lock(survey_id)
        if survey.status != SurveyStatus.SCHEDULED:
            return survey
        ticket = survey.ticket
        survey_settings = survey_settings_of(survey.merchant_id)
        now = timezone.now()
        if not survey_settings.csat_enabled:
            return _skip(survey, SkipReason.DISABLED)
        if ticket.status not in SURVEYABLE_STATUSES:
            return _skip(survey, SkipReason.REOPENED)
        excluded = {tag.lower() for tag in survey_settings.excluded_tags or ()}
        if excluded and any(name.lower() in excluded for name in ticket.tags.values_list("name", flat=True)):
            return _skip(survey, SkipReason.EXCLUDED_TAG)
        excluded_by = survey_excluded(ticket)
        if excluded_by:
            return _skip(survey, excluded_by)
        since = now - timedelta(days=survey_settings.csat_throttle_days)
        if survey_settings.csat_throttle_days and customer_had_survey_since(
            customer=survey.customer, kind=SurveyKind.CSAT, since=since, excluding=survey.pk
        ):
            return _skip(survey, SkipReason.THROTTLED)
        survey.status = SurveyStatus.SENT
        survey.sent_at = now
        survey.expires_at = now + timedelta(days=survey_settings.link_valid_days)
        survey.save(update_fields=["status", "sent_at", "expires_at", "updated_at"])
        _invite(survey, "survey_invite")
        event_append(ticket, FeedbackVerb.SURVEY_SENT, data={"survey": survey.pk}, public=True)
        if survey_settings.reminder_after_hours:
            remind_at = now + timedelta(hours=survey_settings.reminder_after_hours)
            if remind_at < survey.expires_at:
                timers.survey_reminder_schedule(ticket=ticket, survey_id=survey.pk, at=remind_at)
    return survey


def _invite(survey: Survey, template: str) -> None:
    assert survey.expires_at is not None  # noqa: S101 (a sent survey has its expiry)
    expires = timezone.localtime(survey.expires_at, timezone=_zone(survey))
    notify_customer(
        survey.ticket,
        template,
        {"survey_url": survey_url(survey), "expires_on": expires.date().isoformat()},
    )


def _zone(survey: Survey) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(survey.merchant.timezone)


def survey_remind(*, survey_id: int) -> Survey:
    """The one reminder, for a survey sent and not answered while its link is still valid."""
    with transaction.atomic():
        survey = survey_lock(survey_id)
        if survey.status != SurveyStatus.SENT or survey.reminded_at is not None:
            return survey
        now = timezone.now()
        if survey.expires_at is None or survey.expires_at <= now:
            return survey
        survey.reminded_at = now
        survey.save(update_fields=["reminded_at", "updated_at"])
        _invite(survey, "survey_reminder")
        event_append(survey.ticket, FeedbackVerb.SURVEY_REMINDED, data={"survey": survey.pk})
    return survey


# --- NPS ----------------------------------------------------------------------------------------


def nps_clock_restart(*, ticket: Ticket, survey_settings: SurveySettings) -> None:
    """NPS goes ``nps_delay_days`` after the customer's latest case: this case's clock starts and
    the clocks of the customer's earlier cases stop."""
    earlier = (
        Deadline.objects.filter(
            merchant_id=ticket.merchant_id,
            kind=SURVEY_NPS,
            state__in=Deadline.OPEN_STATES,
            ticket__customer_id=ticket.customer_id,
        )
        .exclude(ticket_id=ticket.pk)
        .select_related("ticket")
    )
    for deadline in earlier:
        timers.nps_cancel(ticket=deadline.ticket)
    timers.nps_schedule(ticket=ticket, at=timezone.now() + timedelta(days=survey_settings.nps_delay_days))


def nps_send(*, ticket: Ticket) -> Survey | None:
    """What the sweep does when a customer's NPS falls due: ask, unless they were asked within the
    merchant's NPS throttle window."""
    with transaction.atomic():
        survey_settings = survey_settings_of(ticket.merchant_id)
        customer = Customer.objects.select_for_update(of=("self",)).get(pk=ticket.customer_id)
        now = timezone.now()
        since = now - timedelta(days=survey_settings.nps_throttle_days)
        if not survey_settings.nps_enabled or customer_had_survey_since(
            customer=customer, kind=SurveyKind.NPS, since=since
        ):
            return None
        survey = Survey.objects.create(
            merchant_id=ticket.merchant_id,
            kind=SurveyKind.NPS,
            ticket=ticket,
            customer=customer,
            status=SurveyStatus.SENT,
            sent_at=now,
            expires_at=now + timedelta(days=survey_settings.link_valid_days),
        )
        _invite(survey, "nps_invite")
        event_append(ticket, FeedbackVerb.NPS_SENT, data={"survey": survey.pk})
    return survey


# --- the answer ---------------------------------------------------------------------------------


def _score_in(value: int | None, bounds: tuple[int, int], field: str, *, required: bool = False) -> int | None:
    if value is None:
        if required:
            raise InvalidInput(_("Pick a score."), code="score_required", extra={"field": field})
        return None
    if not bounds[0] <= value <= bounds[1]:
        raise InvalidInput(
            _("Pick a score from %(low)s to %(high)s.") % {"low": bounds[0], "high": bounds[1]},
            code="score_out_of_range",
            extra={"field": field},
        )
    return value


def survey_respond(
    *,
    survey: Survey,
    score: int | None,
    reasons: list[str] | None = None,
    comment: str = "",
    ces_score: int | None = None,
    technician_punctuality: int | None = None,
    technician_skill: int | None = None,
    technician_courtesy: int | None = None,
) -> Survey:
    """Record the customer's answer, or change it while the link is valid. A low score (at or
    below the merchant's threshold, an NPS detractor) or a complaint word in the comment opens a
    recovery case, once per survey."""
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise InvalidInput(
            _("The comment is too long (at most %(limit)s characters).") % {"limit": MAX_COMMENT_LENGTH},
            code="comment_too_long",
            extra={"field": "comment"},
        )
    with transaction.atomic():
        survey = survey_lock(survey.pk)
        now = timezone.now()
        if survey.status not in (SurveyStatus.SENT, SurveyStatus.ANSWERED):
            raise TransitionNotAllowed(_("This survey is not open for answers."), code="survey_not_open")
        if survey.expires_at is None or survey.expires_at <= now:
            raise TransitionNotAllowed(_("This survey has closed."), code="survey_expired")
        survey_settings = survey_settings_of(survey.merchant_id)
        is_csat = survey.kind == SurveyKind.CSAT
        checked_score = _score_in(score, CSAT_SCORES if is_csat else NPS_SCORES, "score", required=True)
        assert checked_score is not None  # noqa: S101 (required)
        offered = reasons_for(survey.ticket.kind) if is_csat else {}
        picked = list(dict.fromkeys(reasons or []))
        unknown = [reason for reason in picked if reason not in offered]
        if unknown:
            raise InvalidInput(_("Pick reasons from the list."), code="unknown_reason", extra={"field": "reasons"})
        ces = _score_in(ces_score, CES_SCORES, "ces_score") if is_csat and survey_settings.ces_enabled else None
        technician = [technician_punctuality, technician_skill, technician_courtesy]
        if survey.has_technician_questions:
            punctuality, skill, courtesy = (
                _score_in(value, TECHNICIAN_SCORES, field)
                for value, field in zip(
                    technician, ("technician_punctuality", "technician_skill", "technician_courtesy"), strict=True
                )
            )
        else:
            punctuality = skill = courtesy = None
        first = survey.status == SurveyStatus.SENT
        survey.status = SurveyStatus.ANSWERED
        survey.score = checked_score
        survey.reasons = picked
        survey.comment = comment
        survey.ces_score = ces
        survey.technician_punctuality, survey.technician_skill, survey.technician_courtesy = (
            punctuality,
            skill,
            courtesy,
        )
        if first:
            survey.answered_at = now
        survey.changed_at = now
        survey.answer_count += 1
        survey.save(
            update_fields=[
                "status",
                "score",
                "reasons",
                "comment",
                "ces_score",
                "technician_punctuality",
                "technician_skill",
                "technician_courtesy",
                "answered_at",
                "changed_at",
                "answer_count",
                "updated_at",
            ]
        )
        event_append(
            survey.ticket,
            FeedbackVerb.SURVEY_ANSWERED if first else FeedbackVerb.SURVEY_CHANGED,
            actor_customer=survey.customer,
            data={"survey": survey.pk, "kind": survey.kind, "score": checked_score},
        )
        if first:
            timers.survey_reminder_meet(ticket=survey.ticket)
        trigger = _recovery_trigger(survey, survey_settings)
        if trigger is not None and not RecoveryCase.objects.filter(survey_id=survey.pk).exists():
            recovery_open(
                original_ticket=survey.ticket,
                trigger=trigger,
                survey=survey,
                note_source=_recovery_note(survey),
            )
    return survey


def _recovery_trigger(survey: Survey, survey_settings: SurveySettings) -> str | None:
    assert survey.score is not None  # noqa: S101 (answered)
    if survey.kind == SurveyKind.CSAT and survey.score <= survey_settings.low_score_threshold:
        return RecoveryTrigger.LOW_CSAT
    if survey.kind == SurveyKind.NPS and nps_category(survey.score) == "detractor":
        return RecoveryTrigger.NPS_DETRACTOR
    comment = survey.comment.lower()
    if comment and any(
        word.strip().lower() in comment for word in survey_settings.complaint_keywords or () if word.strip()
    ):
        return RecoveryTrigger.COMPLAINT_KEYWORD
    return None


def _recovery_note(survey: Survey) -> dict[str, Any]:
    return system_text_source(
        RECOVERY_RATING_NOTE,
        number=survey.ticket.number,
        score=survey.score,
        scale=5 if survey.kind == SurveyKind.CSAT else 10,
        comment=survey.comment,
    )
