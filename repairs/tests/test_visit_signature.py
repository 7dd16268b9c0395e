"""The customer's signature drawn on the technician's phone is shown on the repair page, served
through an authorised download (nosniff, the sandbox policy of every upload); a visit confirmed by
code says so; another merchant's staff get a 404."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.services.dispatch import visit_book, visit_check_in, visit_check_out
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from tickets.attachments import DOWNLOAD_CONTENT_SECURITY_POLICY

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 14:00 in Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="sign-shop", timezone="Asia/Shanghai", default_language="en")


@pytest.fixture
def technician(shop):
    return TechnicianFactory(merchant=shop, calendar=working_calendar(shop))


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def supervisor_of(merchant):
    user = UserFactory()
    MembershipFactory(merchant=merchant, user=user, role=Membership.Role.SUPERVISOR)
    return user


def signature_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 48), (255, 255, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def finished_visit(shop, technician, *, signed):
    visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=NOW)
    visit_check_in(visit=visit, actor=technician.user)
    if signed:
        return visit_check_out(visit=visit, actor=technician.user, signature=ContentFile(signature_png()))
    visit.refresh_from_db()
    return visit_check_out(visit=visit, actor=technician.user, confirmation_code=visit.confirmation_code)


@pytest.mark.usefixtures("clock")
def test_staff_see_the_signature_on_the_repair_page_served_sandboxed(shop, technician, private_storage):
    visit = finished_visit(shop, technician, signed=True)
    client = signed_in(supervisor_of(shop))

    page = client.get(f"/dashboard/tickets/{visit.repair.ticket.number}/").content.decode()
    download = client.get(f"/dashboard/dispatch/visits/{visit.pk}/signature/")

    assert "Confirmed by the customer's signature." in page
    assert f'<img src="/dashboard/dispatch/visits/{visit.pk}/signature/"' in page
    assert "Signed at check-out, 2026-06-01 14:00" in page
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"] == DOWNLOAD_CONTENT_SECURITY_POLICY
    assert download["Cache-Control"] == "private, max-age=3600"
    assert b"".join(download.streaming_content) == signature_png()


@pytest.mark.usefixtures("clock")
def test_a_visit_confirmed_by_code_says_so_and_has_no_signature_to_download(shop, technician, private_storage):
    visit = finished_visit(shop, technician, signed=False)
    client = signed_in(supervisor_of(shop))

    page = client.get(f"/dashboard/tickets/{visit.repair.ticket.number}/").content.decode()
    download = client.get(f"/dashboard/dispatch/visits/{visit.pk}/signature/")

    assert "Confirmed by the code sent to the customer (no signature)." in page
    assert "/signature/" not in page
    assert download.status_code == 404


@pytest.mark.usefixtures("clock")
def test_another_merchants_staff_get_a_404_for_the_signature(shop, technician, private_storage):
    visit = finished_visit(shop, technician, signed=True)
    other = MerchantFactory(slug="other-shop")

    response = signed_in(supervisor_of(other)).get(f"/dashboard/dispatch/visits/{visit.pk}/signature/")
    anonymous = Client().get(f"/dashboard/dispatch/visits/{visit.pk}/signature/")

    assert response.status_code == 404
    assert anonymous.status_code == 302
