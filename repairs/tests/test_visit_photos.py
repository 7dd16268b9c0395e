"""The technician's photos before and after the work: through the checked-upload path, on the
visit and on the repair page; refused off site, to someone else, or without a photo."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory, UserFactory
from repairs.models import VisitPhoto
from repairs.services.dispatch import visit_book, visit_check_in
from repairs.tests.dispatch_factories import OnSiteRepairFactory, TechnicianFactory, working_calendar
from tickets.models import Attachment, Message, TicketEvent

NOW = datetime(2026, 6, 1, 6, 0, tzinfo=UTC)  # Monday 14:00 in Shanghai


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def shop(db):
    return MerchantFactory(slug="photo-shop", timezone="Asia/Shanghai", default_language="en")


@pytest.fixture
def technician(shop):
    return TechnicianFactory(merchant=shop, calendar=working_calendar(shop))


@pytest.fixture
def visit(clock, shop, technician):
    return visit_book(repair=OnSiteRepairFactory(merchant=shop), window_start=NOW)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_on_site_the_technician_adds_photos_before_and_after_and_the_repair_page_shows_them(
    shop, technician, visit, private_storage, png_upload, photo_with_gps
):
    # given: checked in
    visit_check_in(visit=visit, actor=technician.user)
    client = signed_in(technician.user)
    url = f"/dashboard/my-day/visits/{visit.pk}/photos/"
    events_before = TicketEvent.objects.filter(ticket=visit.repair.ticket).count()

    # when
    before = client.post(url, {"phase": "before", "photos": [photo_with_gps(), png_upload("b.png")]}, follow=True)
    after = client.post(url, {"phase": "after", "photos": [png_upload("a.png", (10, 200, 10))]}, follow=True)

    # then
    assert "Photos added to the repair." in before.content.decode()
    assert after.status_code == 200
    photos = list(VisitPhoto.objects.filter(visit=visit).order_by("pk"))
    assert [p.phase for p in photos] == ["before", "before", "after"]
    assert [p.attachment.original_name for p in photos] == ["photo.jpg", "b.png", "a.png"]
    # the GPS position never reaches storage
    stored = (private_storage / photos[0].attachment.file.name).read_bytes()
    assert b"PhoneMaker" not in stored
    assert b"Lin's flat" not in stored
    notes = list(Message.objects.filter(ticket=visit.repair.ticket, kind=Message.Kind.NOTE).order_by("pk"))
    assert [n.body for n in notes] == [
        "Before the work: 2 photos of the visit of 2026-06-01.",
        "After the work: 1 photo of the visit of 2026-06-01.",
    ]
    events = list(TicketEvent.objects.filter(ticket=visit.repair.ticket).order_by("pk"))[events_before:]
    assert [(e.verb, e.message_id, e.is_public) for e in events] == [
        ("note", notes[0].pk, False),
        ("note", notes[1].pk, False),
    ]
    day = client.get("/dashboard/my-day/?day=2026-06-01")
    assert [p.pk for p in day.context["cards"][0]["photos"]] == [photos[0].pk, photos[1].pk, photos[2].pk]
    supervisor = UserFactory()
    MembershipFactory(merchant=shop, user=supervisor, role=Membership.Role.SUPERVISOR)
    page = signed_in(supervisor).get(f"/dashboard/tickets/{visit.repair.ticket.number}/")
    html = page.content.decode()
    for photo in photos:
        assert f'/dashboard/attachments/{photo.attachment_id}/"' in html
    assert html.count("Before the work</figcaption>") == 2
    assert html.count("After the work</figcaption>") == 1


@pytest.mark.parametrize(
    ("checked_in", "phase", "with_photo", "message"),
    [
        (False, "before", True, "Photos are taken while checked in."),
        (True, "during", True, "Say whether the photos are from before or after the work."),
        (True, "after", False, "Add at least one photo."),
    ],
)
def test_photos_off_site_of_an_unknown_phase_or_missing_are_refused_and_nothing_is_stored(
    technician, visit, private_storage, png_upload, checked_in, phase, with_photo, message
):
    if checked_in:
        visit_check_in(visit=visit, actor=technician.user)
    events = TicketEvent.objects.count()
    data = {"phase": phase, **({"photos": [png_upload()]} if with_photo else {})}

    response = signed_in(technician.user).post(f"/dashboard/my-day/visits/{visit.pk}/photos/", data, follow=True)

    assert message in response.content.decode()
    assert (VisitPhoto.objects.count(), Attachment.objects.count(), Message.objects.count()) == (0, 0, 0)
    assert TicketEvent.objects.count() == events
    assert list(private_storage.rglob("*.png")) == []


def test_a_pdf_is_refused_as_a_photo_and_nothing_is_stored(technician, visit, private_storage, pdf_upload):
    visit_check_in(visit=visit, actor=technician.user)

    response = signed_in(technician.user).post(
        f"/dashboard/my-day/visits/{visit.pk}/photos/", {"phase": "before", "photos": [pdf_upload()]}, follow=True
    )

    assert "invoice.pdf is not a photo." in response.content.decode()
    assert (VisitPhoto.objects.count(), Attachment.objects.count()) == (0, 0)


def test_another_technicians_visit_and_another_merchants_visit_are_refused(
    shop, technician, visit, private_storage, png_upload
):
    visit_check_in(visit=visit, actor=technician.user)
    colleague = TechnicianFactory(merchant=shop, calendar=working_calendar(shop, name="Colleague"))
    elsewhere = TechnicianFactory(merchant=MerchantFactory(slug="other-shop"))
    url = f"/dashboard/my-day/visits/{visit.pk}/photos/"

    refused = signed_in(colleague.user).post(url, {"phase": "before", "photos": [png_upload()]}, follow=True)
    hidden = signed_in(elsewhere.user).post(url, {"phase": "before", "photos": [png_upload()]})

    assert "This visit is not yours." in refused.content.decode()
    assert hidden.status_code == 404
    assert (VisitPhoto.objects.count(), Attachment.objects.count()) == (0, 0)
