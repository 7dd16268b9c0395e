"""The KPI home's service figures: CSAT (average and response rate), NPS, technician scorecards,
repair turnaround (median, p90), first-time fix and on-time arrival, read from the rollups."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, StoreFactory, api_key_for
from feedback.models import RepairDailyRollup, SurveyDailyRollup, SurveyKind, SurveyStatus
from feedback.selectors import KpiFilters, kpi_home, technician_score_lines
from feedback.services import rollups_refresh
from feedback.tests.builders import local
from feedback.tests.factories import SentSurveyFactory
from repairs.models import RepairMode, RepairStatus, VisitStatus
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, VisitFactory
from tickets.models import TicketKind

pytestmark = pytest.mark.django_db

DAY = date(2026, 3, 10)
THE_DAY = KpiFilters(start=DAY, end=DAY)


def _repair(shop, store, *, requested, returned, mode=RepairMode.ON_SITE):
    return OnSiteRepairFactory(
        merchant=shop,
        ticket__store=store,
        mode=mode,
        status=RepairStatus.RETURNED if returned else RepairStatus.SCHEDULED,
        requested_at=requested,
        returned_at=returned,
    )


def _visit(repair, technician, *, window, checked_in=None, status=VisitStatus.COMPLETED):
    start, end = window
    return VisitFactory(
        repair=repair,
        technician=technician,
        status=status,
        window_start=local(2026, 3, 10, start),
        window_end=local(2026, 3, 10, end),
        checked_in_at=checked_in,
        checked_out_at=checked_in,
    )


def _answered(ticket, *, kind, score, technician=None, ratings=(None, None, None)):
    punctuality, skill, courtesy = ratings
    return SentSurveyFactory(
        ticket=ticket,
        kind=kind,
        status=SurveyStatus.ANSWERED,
        technician=technician,
        sent_at=local(2026, 3, 10, 15),
        answered_at=local(2026, 3, 10, 16),
        score=score,
        technician_punctuality=punctuality,
        technician_skill=skill,
        technician_courtesy=courtesy,
    )


@pytest.fixture
def field_service():
    shop = MerchantFactory(timezone="Asia/Shanghai")
    store = StoreFactory(merchant=shop)
    ann = TechnicianFactory(merchant=shop, user__username="ann")
    bo = TechnicianFactory(merchant=shop, user__username="bo")
    # Ann fixes a tap at her one visit, on time: 24 hours from request to done.
    first = _repair(shop, store, requested=local(2026, 3, 9, 10), returned=local(2026, 3, 10, 10))
    _visit(first, ann, window=(8, 10), checked_in=local(2026, 3, 10, 9))
    # Ann needs two visits (late to the first, on time to the second): 52 hours.
    second = _repair(shop, store, requested=local(2026, 3, 8, 10), returned=local(2026, 3, 10, 14))
    _visit(second, ann, window=(8, 10), checked_in=local(2026, 3, 10, 10, 30))
    _visit(second, ann, window=(12, 14), checked_in=local(2026, 3, 10, 12, 10))
    # Bo does not come; that repair is not done.
    third = _repair(shop, store, requested=local(2026, 3, 9, 10), returned=None)
    _visit(third, bo, window=(15, 17), status=VisitStatus.TECHNICIAN_NO_SHOW)
    # A mail-in repair, done at the bench in 12 hours: no technician.
    _repair(shop, store, requested=local(2026, 3, 10, 0), returned=local(2026, 3, 10, 12), mode=RepairMode.MAIL_IN)
    # CSAT: the first repair's customer answers 5 and rates Ann 4 / 5 / 3; the second's does not.
    _answered(first.ticket, kind=SurveyKind.CSAT, score=5, technician=ann.user, ratings=(4, 5, 3))
    SentSurveyFactory(ticket=second.ticket, technician=ann.user, sent_at=local(2026, 3, 10, 15))
    # NPS: two promoters and a detractor.
    for score in (10, 9, 3):
        _answered(third.ticket, kind=SurveyKind.NPS, score=score)
    rollups_refresh(merchant=shop, first_day=DAY, last_day=DAY)
    return shop, ann, bo


def test_the_refresh_rolls_up_repairs_and_surveys_per_technician(field_service):
    shop, ann, bo = field_service

    by_technician = {
        row.technician_id: (row.repairs_returned, row.on_site_returned, row.first_time_fixed, row.arrivals)
        for row in RepairDailyRollup.objects.filter(merchant=shop, day=DAY)
    }
    assert by_technician == {ann.user_id: (2, 2, 1, 3), bo.user_id: (0, 0, 0, 1), None: (1, 0, 0, 0)}
    assert SurveyDailyRollup.objects.filter(merchant=shop, technician=ann.user).get().csat_sent == 2


def test_the_home_shows_csat_nps_turnaround_first_time_fix_and_on_time_arrival(field_service):
    shop, _ann, _bo = field_service

    service = kpi_home(merchant=shop, filters=THE_DAY, backlog_ages=[]).service

    assert (service.csat_average, service.csat_response_percent) == (Decimal("5.00"), Decimal("50.0"))
    assert service.nps == Decimal("33.3")
    # 720, 1440 and 3120 minutes: the median interpolated in [1440, 2160), p90 in [2880, 4320).
    assert (service.turnaround.count, service.turnaround.median_minutes, service.turnaround.p90_minutes) == (
        3,
        Decimal("1800.0"),
        Decimal("3888.0"),
    )
    assert (service.first_time_fix_percent, service.on_time_percent) == (Decimal("50.0"), Decimal("50.0"))


def test_each_technician_has_a_scorecard(field_service):
    shop, ann, bo = field_service

    cards = kpi_home(merchant=shop, filters=THE_DAY, backlog_ages=[]).technicians

    assert [(card.technician_id, card.name) for card in cards] == [(ann.user_id, "ann"), (bo.user_id, "bo")]
    ann_card, bo_card = (card.figures for card in cards)
    assert (ann_card.csat_average, ann_card.punctuality_average, ann_card.skill_average, ann_card.courtesy_average) == (
        Decimal("5.00"),
        Decimal("4.00"),
        Decimal("5.00"),
        Decimal("3.00"),
    )
    assert (ann_card.first_time_fix_percent, ann_card.on_time_percent) == (Decimal("50.0"), Decimal("66.7"))
    assert (bo_card.counts["arrivals"], bo_card.on_time_percent, bo_card.csat_average) == (1, Decimal("0.0"), None)


def test_a_kind_other_than_repair_leaves_the_repair_figures_empty(field_service):
    shop, _ann, _bo = field_service

    support_only = KpiFilters(start=DAY, end=DAY, kind=TicketKind.SUPPORT)
    service = kpi_home(merchant=shop, filters=support_only, backlog_ages=[]).service

    assert (service.counts["repairs_returned"], service.counts["arrivals"], service.csat_average) == (0, 0, None)


def test_the_home_reads_a_fixed_number_of_queries(field_service):
    shop, _ann, _bo = field_service

    with CaptureQueriesContext(connection) as captured:
        kpi_home(merchant=shop, filters=THE_DAY, backlog_ages=[])

    # The ticket rollups summed per day and per agent, with the complaints, in one query; the
    # survey and repair rollups, each summed per technician; the names of agents and
    # technicians in one; returns (totals, top SKUs and their products, reasons and their
    # names); when refreshed; the backlog.
    assert len(captured) == 9


def test_the_kpi_page_shows_the_service_figures_and_technician_scorecards_in_tables_and_a_chart(field_service, client):
    shop, ann, _bo = field_service
    supervisor = MembershipFactory(merchant=shop, role=Membership.Role.SUPERVISOR).user
    client.force_login(supervisor)

    response = client.get(reverse("dashboard:kpi_home"), {"start": "2026-03-10", "end": "2026-03-10"})

    assert response.status_code == 200
    content = response.content.decode()
    assert 'data-chart="technicians"' in content
    assert 'id="technician-scorecards"' in content
    assert f'data-technician="{ann.user_id}"' in content
    technicians = response.context["chart_data"]["technicians"]
    assert technicians == {
        "names": ["ann", "bo"],
        "first_time_fix": [50.0, None],
        "on_time": [66.7, 0.0],
        "csat": [100.0, None],
    }


def test_the_dispatch_board_shows_each_technicians_scores_of_the_last_30_days(field_service, client):
    shop, ann, bo = field_service
    client.force_login(MembershipFactory(merchant=shop, role=Membership.Role.SUPERVISOR).user)

    with time_machine.travel(local(2026, 3, 11, 9), tick=False):
        lines = technician_score_lines(merchant_id=shop.pk, user_ids=[ann.user_id, bo.user_id])
        page = client.get("/dashboard/dispatch/?day=2026-03-11")

    assert lines == {
        ann.user_id: "CSAT 5.00 · on time 66.7% · fixed at the first visit 50.0% (30 days)",
        bo.user_id: "CSAT — · on time 0.0% · fixed at the first visit — (30 days)",
    }
    assert page.status_code == 200
    assert page.content.decode().count("data-technician-score") == 2
    assert lines[ann.user_id] in page.content.decode()


def test_no_score_is_shown_for_a_technician_outside_the_last_30_days(field_service):
    shop, ann, _bo = field_service

    with time_machine.travel(local(2026, 4, 9, 9), tick=False):
        assert technician_score_lines(merchant_id=shop.pk, user_ids=[ann.user_id]) == {}


def test_the_kpi_api_gives_the_service_figures_and_technician_scorecards(field_service):
    shop, ann, bo = field_service
    _key, full_key = api_key_for(shop)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")

    response = api.get(reverse("api:kpi-series"), {"start": "2026-03-10", "end": "2026-03-10"})

    assert response.status_code == 200
    service = response.json()["service"]
    assert (service["csat_average"], service["csat_response_percent"], service["nps"]) == ("5.00", "50.0", "33.3")
    assert (service["turnaround"]["median_minutes"], service["turnaround"]["p90_minutes"]) == ("1800.0", "3888.0")
    assert (service["first_time_fix_percent"], service["on_time_percent"]) == ("50.0", "50.0")
    assert [(card["technician"], card["figures"]["on_time_percent"]) for card in response.json()["technicians"]] == [
        (ann.user_id, "66.7"),
        (bo.user_id, "0.0"),
    ]
