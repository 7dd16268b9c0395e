"""Photos from outside: a decompression bomb is refused with a message on every path (API, portal
request, staff reply), and what is stored keeps no location or other identifying metadata, only its
orientation."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image
from rest_framework.test import APIClient

from aftersales.tests.builders import sign_in
from aftersales.tests.factories import api_key_for
from tickets.attachments import checked_upload
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db

GPS_LATITUDE = 2
MAKE, MODEL, ORIENTATION = ExifTags.Base.Make, ExifTags.Base.Model, ExifTags.Base.Orientation


def metadata_of(data: bytes) -> tuple[dict, dict, dict]:
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        return dict(exif), dict(exif.get_ifd(ExifTags.IFD.GPSInfo)), dict(image.info)


# --- what is stored ----------------------------------------------------------------------------


@pytest.mark.parametrize(("format_", "name"), [("JPEG", "photo.jpg"), ("PNG", "photo.png"), ("WEBP", "photo.webp")])
def test_a_photo_loses_its_location_and_camera_but_keeps_its_orientation(format_, name, photo_with_gps):
    upload = photo_with_gps(format_, name)
    exif, gps, _info = metadata_of(upload.read())
    assert gps[GPS_LATITUDE] == (30.0, 15.0, 7.5)
    assert exif[MAKE] == "PhoneMaker"

    stored, content_type, sha256 = checked_upload(upload)

    data = stored.read()
    exif, gps, info = metadata_of(data)
    assert exif == {ORIENTATION: 6}
    assert gps == {}
    assert "comment" not in info
    assert b"PhoneMaker" not in data
    assert b"SN-123456" not in data
    assert b"3rd floor" not in data
    assert content_type == f"image/{format_.lower()}"
    assert stored.name == name
    assert stored.size == len(data)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (32, 16)
    import hashlib

    assert sha256 == hashlib.sha256(data).hexdigest()


def test_a_photo_without_metadata_is_kept_as_it_came():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="PNG")
    upload = SimpleUploadedFile("plain.png", buffer.getvalue(), content_type="image/png")

    stored, _content_type, _sha256 = checked_upload(upload)

    assert stored.read() == buffer.getvalue()


def test_a_reply_through_the_api_stores_the_photo_without_its_location(
    merchant, make_ticket, private_storage, photo_with_gps
):
    ticket = make_ticket()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")

    response = client.post(
        reverse("api:ticket-messages", kwargs={"number": ticket.number}),
        {"kind": "reply", "body": "The label.", "attachments": [photo_with_gps()]},
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    attachment = Attachment.objects.get(ticket=ticket)
    with attachment.file.open("rb") as stored:
        data = stored.read()
    assert metadata_of(data)[:2] == ({ORIENTATION: 6}, {})
    assert attachment.size == len(data)


# --- decompression bombs -----------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_it_is_decoded(bomb_upload):
    from aftersales.exceptions import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        checked_upload(bomb_upload())

    assert refused.value.code == "attachment_too_many_pixels"
    assert str(refused.value.message) == "bomb.png is too large a picture; the limit is 50 megapixels."


def counts():
    return Ticket.objects.count(), Message.objects.count(), Attachment.objects.count()


def test_a_bomb_through_the_api_is_a_400_and_writes_nothing(merchant, make_ticket, private_storage, bomb_upload):
    ticket = make_ticket()
    before = counts()
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key_for(merchant)[1]}")

    response = client.post(
        reverse("api:ticket-messages", kwargs={"number": ticket.number}),
        {"kind": "reply", "body": "x", "attachments": [bomb_upload()]},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "attachment_too_many_pixels"
    assert counts() == before
    assert list(private_storage.rglob("*.png")) == []


def test_a_bomb_on_the_portal_request_form_is_a_form_error_and_writes_nothing(
    client, order, django_capture_on_commit_callbacks, private_storage, bomb_upload
):
    sign_in(client, django_capture_on_commit_callbacks, order)
    before = counts()

    response = client.post(
        reverse("portal:ticket_new", args=[order.merchant.slug, order.pk]),
        {
            "kind": "support",
            "order_lines": [order.lines.first().pk],
            "subject": "Zip",
            "description": "Broken.",
            "photos": [bomb_upload()],
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "bomb.png is too large a picture; the limit is 50 megapixels." in response.content.decode()
    assert counts() == before


def test_a_bomb_on_a_staff_reply_is_a_form_error_and_writes_nothing(
    client, agent, make_ticket, private_storage, bomb_upload
):
    ticket = make_ticket()
    client.force_login(agent)
    before = counts()

    response = client.post(
        reverse("dashboard:ticket_reply", kwargs={"number": ticket.number}),
        {"body": "A photo?", "status": "waiting_customer", "files": [bomb_upload()]},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "bomb.png is too large a picture; the limit is 50 megapixels." in response.content.decode()
    assert counts() == before


@pytest.fixture
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


def test_a_jpeg_without_metadata_is_kept_as_it_came():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, format="JPEG", dpi=(72, 72), progressive=True)
    upload = SimpleUploadedFile("plain.jpg", buffer.getvalue(), content_type="image/jpeg")

    stored, _content_type, _sha256 = checked_upload(upload)

    assert stored.read() == buffer.getvalue()
