"""feedback's API: quality alerts and the KPI series, for the request's merchant only."""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, api_key_for
from feedback.models import AlertStatus
from feedback.services import rollups_refresh
from feedback.tests.builders import local, ticket_at
from feedback.tests.factories import QualityAlertFactory

pytestmark = pytest.mark.django_db


def _key_client(merchant) -> APIClient:
    _key, full_key = api_key_for(merchant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {full_key}")
    return client


def test_an_api_key_lists_only_its_merchants_alerts():
    merchant = MerchantFactory.create()
    ours = QualityAlertFactory.create(merchant=merchant)
    theirs = QualityAlertFactory.create()
    client = _key_client(merchant)

    listed = client.get(reverse("api:quality-alert-list"))
    detail = client.get(reverse("api:quality-alert-detail", kwargs={"alert_id": theirs.pk}))

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [ours.pk]
    assert listed.json()["results"][0]["rate"] == "0.100000"
    assert detail.status_code == 404


def test_a_supervisor_dismisses_an_alert_through_the_api_and_an_agent_key_is_refused():
    merchant = MerchantFactory.create()
    alert = QualityAlertFactory.create(merchant=merchant)
    supervisor = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    key_client = _key_client(merchant)
    session = APIClient()
    session.force_login(supervisor)
    url = reverse("api:quality-alert-dismiss", kwargs={"alert_id": alert.pk})

    # The key acts as an agent: refused, nothing changed
    refused = key_client.post(url, {"reason": "Integration says so."}, format="json")
    alert.refresh_from_db()
    assert refused.status_code == 403
    assert alert.status == AlertStatus.OPEN

    missing = session.post(url, {}, format="json")
    done = session.post(url, {"reason": "Mislabelled returns."}, format="json")

    assert missing.status_code == 400
    assert done.status_code == 200
    assert done.json()["status"] == "dismissed"
    again = session.post(url, {"reason": "Twice."}, format="json")
    assert again.status_code == 409


def test_the_kpi_series_counts_the_merchants_cases_per_day():
    merchant = MerchantFactory.create()
    ticket_at(merchant, local(2026, 3, 10, 9))
    other = MerchantFactory.create()
    ticket_at(other, local(2026, 3, 10, 9))
    for shop in (merchant, other):
        rollups_refresh(merchant=shop, first_day=date(2026, 3, 1), last_day=date(2026, 3, 31))

    response = _key_client(merchant).get(reverse("api:kpi-series"), {"start": "2026-03-09", "end": "2026-03-11"})

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["opened"] == 1
    assert [(day["day"], day["figures"]["opened"]) for day in body["days"]] == [
        ("2026-03-09", 0),
        ("2026-03-10", 1),
        ("2026-03-11", 0),
    ]


def test_the_kpi_series_refuses_a_backwards_period_and_an_agent_session():
    merchant = MerchantFactory.create()
    agent = MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user
    session = APIClient()
    session.force_login(agent)

    backwards = _key_client(merchant).get(reverse("api:kpi-series"), {"start": "2026-03-11", "end": "2026-03-01"})
    refused = session.get(reverse("api:kpi-series"), {"start": "2026-03-01", "end": "2026-03-11"})

    assert backwards.status_code == 400
    assert refused.status_code == 403
