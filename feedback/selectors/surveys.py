"""Reads of surveys: settings, the link's survey, the throttle, the responses list, scores."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Avg, Count, Q, QuerySet
from django.utils import timezone

from aftersales.models import Customer, Membership, User
from feedback.models import RecoveryCase, RecoveryStatus, Survey, SurveyKind, SurveySettings, SurveyStatus
from feedback.roles import SUPERVISOR_ROLES
from tickets.models import Ticket, TicketLink, TicketLinkKind

RESPONSES_PAGE_SIZE = 50


def survey_settings_of(merchant_id: int) -> SurveySettings:
    """The merchant's settings, or the defaults (unsaved) when it never changed them."""
    found = SurveySettings.objects.filter(merchant_id=merchant_id).first()
    return found if found is not None else SurveySettings(merchant_id=merchant_id)


def survey_for_link(*, survey_id: int, nonce: str, merchant_slug: str) -> Survey | None:
    """The survey a link names, if the link's nonce is its nonce and it is the merchant's of the URL."""
    return (
        Survey.objects.select_related("ticket", "merchant", "customer", "technician", "agent")
        .filter(pk=survey_id, nonce=nonce, merchant__slug=merchant_slug)
        .first()
    )


def csat_of_ticket(*, ticket: Ticket) -> Survey | None:
    return (
        Survey.objects.filter(merchant_id=ticket.merchant_id, ticket_id=ticket.pk, kind=SurveyKind.CSAT)
        .select_related("technician")
        .first()
    )


# The survey's skip reason for a case merged into another: the customer is asked once, about the
# case their conversation continued in.
MERGED = "merged"


def survey_exclusion_merged(ticket: Ticket) -> str | None:
    """feedback's survey exclusion (``feedback.contributors``) for a case merged into another."""
    merged = TicketLink.objects.filter(
        merchant_id=ticket.merchant_id, source_id=ticket.pk, kind=TicketLinkKind.MERGED_INTO
    ).exists()
    return MERGED if merged else None


def customer_had_survey_since(*, customer: Customer, kind: str, since: datetime, excluding: int | None = None) -> bool:
    """Whether the customer was sent a survey of this kind at or after ``since``."""
    surveys = Survey.objects.filter(
        merchant_id=customer.merchant_id, customer_id=customer.pk, kind=kind, sent_at__gte=since
    )
    if excluding is not None:
        surveys = surveys.exclude(pk=excluding)
    return surveys.exists()


@dataclass(frozen=True)
class ResponseFilters:
    kind: str = ""
    score_at_most: int | None = None
    agent_id: int | None = None
    technician_id: int | None = None
    since: date | None = None


@dataclass(frozen=True)
class ResponseKey:
    answered_at: datetime
    id: int


@dataclass(frozen=True)
class ResponsePage:
    responses: list[Survey]
    next_key: ResponseKey | None


def _answered(merchant_id: int, filters: ResponseFilters) -> QuerySet[Survey]:
    surveys = Survey.objects.filter(merchant_id=merchant_id, status=SurveyStatus.ANSWERED)
    if filters.kind:
        surveys = surveys.filter(kind=filters.kind)
    if filters.score_at_most is not None:
        surveys = surveys.filter(score__lte=filters.score_at_most)
    if filters.agent_id is not None:
        surveys = surveys.filter(agent_id=filters.agent_id)
    if filters.technician_id is not None:
        surveys = surveys.filter(technician_id=filters.technician_id)
    if filters.since is not None:
        surveys = surveys.filter(answered_at__gte=timezone.make_aware(datetime.combine(filters.since, time.min)))
    return surveys


def responses_page(*, merchant_id: int, filters: ResponseFilters, after: ResponseKey | None = None) -> ResponsePage:
    """The merchant's answered surveys, newest first, one keyset page at a time."""
    surveys = _answered(merchant_id, filters)
    if after is not None:
        surveys = surveys.filter(
            Q(answered_at__lt=after.answered_at) | Q(answered_at=after.answered_at, id__lt=after.id)
        )
    rows = list(
        surveys.select_related("ticket", "customer", "agent", "team", "technician", "recovery").order_by(
            "-answered_at", "-id"
        )[: RESPONSES_PAGE_SIZE + 1]
    )
    next_key = None
    if len(rows) > RESPONSES_PAGE_SIZE:
        rows = rows[:RESPONSES_PAGE_SIZE]
        last = rows[-1]
        assert last.answered_at is not None  # answered rows have it  # noqa: S101
        next_key = ResponseKey(answered_at=last.answered_at, id=last.pk)
    return ResponsePage(responses=rows, next_key=next_key)


def responses_for_export(*, merchant_id: int, filters: ResponseFilters) -> QuerySet[Survey]:
    """Every answered survey the responses page shows with ``filters``, newest first, not one page."""
    return (
        _answered(merchant_id, filters)
        .select_related("ticket", "customer", "agent", "team", "technician")
        .order_by("-answered_at", "-id")
    )


def responses_for_api(*, merchant_id: int) -> QuerySet[Survey]:
    return (
        Survey.objects.filter(merchant_id=merchant_id, status=SurveyStatus.ANSWERED)
        .select_related("ticket", "customer", "agent", "team", "technician")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class StaffScore:
    user_id: int
    name: str
    ratings: int
    average: float | None
    punctuality: float | None = None
    skill: float | None = None
    courtesy: float | None = None


def _display(users: dict[int, User], user_id: int) -> str:
    user = users.get(user_id)
    return str(user) if user is not None else str(user_id)


def _since_filter(merchant_id: int, since: datetime | None) -> QuerySet[Survey]:
    surveys = Survey.objects.filter(merchant_id=merchant_id, kind=SurveyKind.CSAT, status=SurveyStatus.ANSWERED)
    return surveys.filter(answered_at__gte=since) if since is not None else surveys


def technician_scores(*, merchant_id: int, since: datetime | None = None) -> list[StaffScore]:
    """Per technician: how many rated visits, the average CSAT and each of the three technician
    ratings, best average first. What dispatch reads."""
    rows = list(
        _since_filter(merchant_id, since)
        .filter(technician__isnull=False)
        .values("technician_id")
        .annotate(
            ratings=Count("id"),
            average=Avg("score"),
            punctuality=Avg("technician_punctuality"),
            skill=Avg("technician_skill"),
            courtesy=Avg("technician_courtesy"),
        )
        .order_by("-average", "technician_id")
    )
    users = User.objects.in_bulk([row["technician_id"] for row in rows])
    return [
        StaffScore(
            user_id=row["technician_id"],
            name=_display(users, row["technician_id"]),
            ratings=row["ratings"],
            average=_rounded(row["average"]),
            punctuality=_rounded(row["punctuality"]),
            skill=_rounded(row["skill"]),
            courtesy=_rounded(row["courtesy"]),
        )
        for row in rows
    ]


def agent_scores(*, merchant_id: int, since: datetime | None = None) -> list[StaffScore]:
    rows = list(
        _since_filter(merchant_id, since)
        .filter(agent__isnull=False)
        .values("agent_id")
        .annotate(ratings=Count("id"), average=Avg("score"))
        .order_by("-average", "agent_id")
    )
    users = User.objects.in_bulk([row["agent_id"] for row in rows])
    return [
        StaffScore(
            user_id=row["agent_id"],
            name=_display(users, row["agent_id"]),
            ratings=row["ratings"],
            average=_rounded(row["average"]),
        )
        for row in rows
    ]


def _rounded(value: float | None) -> float | None:
    return round(float(value), 2) if value is not None else None


def recovery_queue(*, merchant_id: int, status: str = RecoveryStatus.OPEN) -> QuerySet[RecoveryCase]:
    """The merchant's recovery cases, the most overdue first (open) or the latest closed first."""
    cases = RecoveryCase.objects.filter(merchant_id=merchant_id, status=status).select_related(
        "original_ticket", "recovery_ticket", "recovery_ticket__customer", "supervisor", "survey"
    )
    return cases.order_by("due_at", "id") if status == RecoveryStatus.OPEN else cases.order_by("-closed_at", "-id")


def recovery_supervisor_for(*, merchant_id: int) -> User | None:
    """The active supervisor (or merchant admin) with the fewest open recovery cases."""
    memberships = Membership.objects.filter(
        merchant_id=merchant_id, is_active=True, role__in=SUPERVISOR_ROLES, user__is_active=True
    ).select_related("user")
    open_counts = dict(
        RecoveryCase.objects.filter(merchant_id=merchant_id, status=RecoveryStatus.OPEN)
        .values("supervisor_id")
        .annotate(count=Count("id"))
        .values_list("supervisor_id", "count")
    )
    # Supervisors before merchant admins, then the least loaded, then the longest-standing.
    ranked = sorted(
        memberships,
        key=lambda m: (m.role != Membership.Role.SUPERVISOR, open_counts.get(m.user_id, 0), m.pk),
    )
    return ranked[0].user if ranked else None
