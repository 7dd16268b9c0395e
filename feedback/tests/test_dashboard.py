"""The dashboard's KPI home and quality alert pages: roles, tenancy, decisions, export."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from feedback.models import AlertStatus
from feedback.services import rollups_refresh
from feedback.tests.builders import local, ticket_at
from feedback.tests.factories import QualityAlertFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor_client(client):
    merchant = MerchantFactory.create()
    supervisor = MembershipFactory.create(merchant=merchant, role=Membership.Role.SUPERVISOR).user
    client.force_login(supervisor)
    client.merchant = merchant
    client.user = supervisor
    return client


def test_the_kpi_home_shows_the_merchants_figures_with_chart_data_and_tables(supervisor_client):
    # Given two cases today, refreshed, and another merchant's case
    merchant = supervisor_client.merchant
    ticket_at(merchant, local(2026, 3, 10, 9))
    ticket_at(merchant, local(2026, 3, 10, 10))
    other = MerchantFactory.create()
    ticket_at(other, local(2026, 3, 10, 9))
    for shop in (merchant, other):
        rollups_refresh(merchant=shop, first_day=date(2026, 3, 1), last_day=date(2026, 3, 31))

    # When the supervisor opens the home for March
    response = supervisor_client.get(reverse("dashboard:kpi_home"), {"start": "2026-03-01", "end": "2026-03-31"})

    # Then the figures are ours only, the charts have their data and their tables
    assert response.status_code == 200
    home = response.context["home"]
    assert home.totals.counts["created"] == 2
    assert sum(response.context["chart_data"]["volume"]["opened"]) == 2
    assert len(response.context["chart_data"]["volume"]["days"]) == 31
    content = response.content.decode()
    assert 'id="kpi-chart-data"' in content
    assert 'data-chart="refund_cycle"' in content
    assert 'id="volume-table"' in content
    assert "vendor/echarts/echarts.min.js" in content


def test_the_kpi_home_reads_the_same_number_of_queries_for_a_week_and_a_quarter(supervisor_client):
    # The service figures (CSAT, NPS, repairs, technician scorecards) added two queries, the same
    # for any period; feedback/tests/test_service_kpis.py pins the selector's total at 11.
    def queries(period: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_client.get(reverse("dashboard:kpi_home"), {"period": period}).status_code == 200
        return len(captured)

    assert queries("7") == queries("90")


def test_a_bad_period_shows_the_reason_and_the_default_period(supervisor_client):
    response = supervisor_client.get(reverse("dashboard:kpi_home"), {"start": "2026-03-31", "end": "2026-03-01"})

    assert response.status_code == 200
    assert "The period must start before it ends." in response.content.decode()
    assert (response.context["home"].filters.end - response.context["home"].filters.start).days == 29


def test_a_store_of_another_merchant_is_not_a_filter_choice(supervisor_client):
    from aftersales.tests.factories import StoreFactory

    theirs = StoreFactory.create(merchant=MerchantFactory.create())

    response = supervisor_client.get(reverse("dashboard:kpi_home"), {"store": theirs.pk})

    assert response.status_code == 200
    assert response.context["home"].filters.store_id is None


def test_an_agent_is_refused_the_kpi_home_and_the_alerts(client):
    merchant = MerchantFactory.create()
    client.force_login(MembershipFactory.create(merchant=merchant, role=Membership.Role.AGENT).user)

    assert client.get(reverse("dashboard:kpi_home")).status_code == 403
    assert client.get(reverse("dashboard:quality_alerts")).status_code == 403


def test_the_alerts_page_lists_only_the_merchants_alerts(supervisor_client):
    ours = QualityAlertFactory.create(merchant=supervisor_client.merchant, sku="OURS-1")
    theirs = QualityAlertFactory.create(sku="THEIRS-1")

    response = supervisor_client.get(reverse("dashboard:quality_alerts"))

    assert [alert.pk for alert in response.context["alerts"]] == [ours.pk]
    assert "THEIRS-1" not in response.content.decode()
    assert supervisor_client.get(reverse("dashboard:quality_alert", kwargs={"pk": theirs.pk})).status_code == 404


def test_another_merchants_alert_cannot_be_dismissed(supervisor_client):
    theirs = QualityAlertFactory.create()

    response = supervisor_client.post(
        reverse("dashboard:quality_alert_dismiss", kwargs={"pk": theirs.pk}), {"reason": "Not ours."}
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AlertStatus.OPEN


def test_a_supervisor_acknowledges_then_dismisses_an_alert_from_its_page(supervisor_client):
    alert = QualityAlertFactory.create(merchant=supervisor_client.merchant)
    page = reverse("dashboard:quality_alert", kwargs={"pk": alert.pk})

    acknowledged = supervisor_client.post(
        reverse("dashboard:quality_alert_acknowledge", kwargs={"pk": alert.pk}), {"note": "Checking."}
    )
    empty = supervisor_client.post(reverse("dashboard:quality_alert_dismiss", kwargs={"pk": alert.pk}), {"reason": ""})
    alert.refresh_from_db()
    status_after_empty = alert.status
    dismissed = supervisor_client.post(
        reverse("dashboard:quality_alert_dismiss", kwargs={"pk": alert.pk}), {"reason": "Wrong reason picked."}
    )

    assert acknowledged.status_code == 302
    assert acknowledged["Location"] == page
    assert empty.status_code == 400
    assert status_after_empty == AlertStatus.ACKNOWLEDGED
    assert dismissed.status_code == 302
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED
    assert alert.note == "Wrong reason picked."
    assert "Dismissed" in supervisor_client.get(page).content.decode()


def test_the_alerts_export_as_csv_holds_only_the_merchants_alerts(supervisor_client):
    QualityAlertFactory.create(merchant=supervisor_client.merchant, sku="OURS-1")
    QualityAlertFactory.create(sku="THEIRS-1")

    response = supervisor_client.get(reverse("dashboard:quality_alerts"), {"export": "csv"})

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode()[1:])))
    assert rows[0][:2] == ["Detected", "SKU"]
    assert [row[1] for row in rows[1:]] == ["OURS-1"]
    assert rows[1][8] == "10.00"
