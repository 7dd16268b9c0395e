"""A short video of the fault: the customer adds one to the portal repair request, the technician
to the visit's evidence; both go through the checked-upload path, and staff play them with a
<video> element on the ticket page. A video cut short is refused and nothing is stored."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import RepairOrder, VisitPhoto
from repairs.services.dispatch import visit_book, visit_check_in
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from repairs.tests.test_pages import _portal_client
from tickets.models import Attachment
from tickets.tests.videos import mp4_bytes, video_upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
A_MONTH_ON = datetime(2026, 4, 10, 10, 0, tzinfo=SHANGHAI)
NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_customer_adds_a_short_video_to_the_repair_request_and_staff_play_it(client, world, private_storage):
    with time_machine.travel(A_MONTH_ON, tick=False):
        _portal_client(client, world.order)
        response = client.post(
            reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk]),
            {
                "fault_description": "The tap sprays water from the base.",
                "serial_number": "TAP-0001",
                "remedy_wanted": "repair",
                "mode": "mail_in",
                "photos": [video_upload("spray.mp4", seconds=8)],
            },
        )
        repair = RepairOrder.objects.get(merchant=world.merchant)
        page = signed_in(world.agent).get(f"/dashboard/tickets/{repair.ticket.number}/")
        attachment = repair.ticket.attachments.get()
        played = signed_in(world.agent).get(f"/dashboard/attachments/{attachment.pk}/")

    assert response.status_code == 302
    assert (attachment.original_name, attachment.content_type) == ("spray.mp4", "video/mp4")
    assert f'<video class="attachments__video" src="/dashboard/attachments/{attachment.pk}/" controls' in (
        page.content.decode()
    )
    assert played["Content-Type"] == "video/mp4"
    assert played["Content-Disposition"].startswith("inline")
    assert "sandbox" in played["Content-Security-Policy"]


def test_the_customer_plays_their_own_video_on_the_portal(client, world, private_storage):
    # given: a repair request sent with a short video of the fault
    with time_machine.travel(A_MONTH_ON, tick=False):
        _portal_client(client, world.order)
        client.post(
            reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk]),
            {
                "fault_description": "The tap sprays water from the base.",
                "serial_number": "TAP-0001",
                "remedy_wanted": "repair",
                "mode": "mail_in",
                "photos": [video_upload("spray.mp4", seconds=8)],
            },
        )
        repair = RepairOrder.objects.get(merchant=world.merchant)
        attachment = repair.ticket.attachments.get()

        # when the customer opens the request
        page = client.get(reverse("portal:ticket", args=[world.merchant.slug, repair.ticket.number]))
        played = client.get(reverse("portal:attachment", args=[world.merchant.slug, attachment.pk]))

    # then it plays in the page (not a link to download), from the portal's own address
    url = reverse("portal:attachment", args=[world.merchant.slug, attachment.pk])
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<video src="{url}" class="attachment__video" controls preload="metadata" playsinline' in html
    assert f'<a href="{url}" class="attachment__file">' not in html
    assert (played.status_code, played["Content-Type"]) == (200, "video/mp4")


def test_a_video_cut_short_is_refused_on_the_repair_request_and_nothing_is_opened(client, world, private_storage):
    with time_machine.travel(A_MONTH_ON, tick=False):
        _portal_client(client, world.order)
        response = client.post(
            reverse("portal:repair_request", args=[world.merchant.slug, world.line.pk]),
            {
                "fault_description": "The tap sprays water from the base.",
                "serial_number": "TAP-0001",
                "remedy_wanted": "repair",
                "mode": "mail_in",
                "photos": [video_upload("spray.mp4", mp4_bytes()[:-20])],
            },
        )

    assert "spray.mp4 is not a readable video (it may be cut short)." in response.content.decode()
    assert RepairOrder.objects.filter(merchant=world.merchant).count() == 0
    assert Attachment.objects.count() == 0


@pytest.fixture
def on_site_visit(db):
    with time_machine.travel(NOW, tick=False):
        shop = MerchantFactory(slug="video-shop", timezone="Asia/Shanghai", default_language="en")
        technician = TechnicianFactory(merchant=shop, calendar=working_calendar(shop))
        visit = visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=NOW)
        visit_check_in(visit=visit, actor=technician.user)
        yield shop, technician, visit


def test_the_technician_adds_a_short_video_as_evidence_and_the_repair_page_plays_it(on_site_visit, private_storage):
    shop, technician, visit = on_site_visit
    supervisor = UserFactory()
    MembershipFactory(merchant=shop, user=supervisor, role=Membership.Role.SUPERVISOR)

    with time_machine.travel(NOW, tick=False):
        response = signed_in(technician.user).post(
            f"/dashboard/my-day/visits/{visit.pk}/photos/",
            {"phase": "after", "photos": [video_upload("works.webm", seconds=5)]},
            follow=True,
        )
        page = signed_in(supervisor).get(f"/dashboard/tickets/{visit.repair.ticket.number}/").content.decode()

    assert "Photos added to the repair." in response.content.decode()
    evidence = VisitPhoto.objects.select_related("attachment").get(visit=visit)
    assert (evidence.phase, evidence.attachment.content_type) == ("after", "video/webm")
    assert f'<video src="/dashboard/attachments/{evidence.attachment_id}/" controls' in page


def test_a_truncated_video_is_refused_as_evidence_and_nothing_is_stored(on_site_visit, private_storage):
    _shop, technician, visit = on_site_visit

    with time_machine.travel(NOW, tick=False):
        response = signed_in(technician.user).post(
            f"/dashboard/my-day/visits/{visit.pk}/photos/",
            {"phase": "after", "photos": [video_upload("works.mov", mp4_bytes(quicktime=True)[:70])]},
            follow=True,
        )

    assert "works.mov is not a readable video (it may be cut short)." in response.content.decode()
    assert (VisitPhoto.objects.count(), Attachment.objects.count()) == (0, 0)
    assert list(private_storage.rglob("*.mov")) == []
