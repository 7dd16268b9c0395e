"""Photos on the portal's return confirm: a decompression bomb is a form error with nothing
written, and a photo is stored without its location."""

import io

import pytest
from PIL import ExifTags, Image

from returns.models import ReturnRequest
from returns.tests.builders import choose, confirm, nothing_written_for

# The portal return fixtures (returns/tests/conftest.py), on the tenth day after delivery.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage", "day_ten")]


def test_a_bomb_on_the_return_confirm_is_a_form_error_with_nothing_written(
    signed_in, order, shoes, reasons, bomb_upload
):
    review = choose(signed_in, order, {shoes: 1}, reasons["damaged"])
    before = nothing_written_for(order)

    response = confirm(signed_in, order, review, photos=[bomb_upload()])

    assert response.status_code == 200
    assert "bomb.png is too large a picture; the limit is 50 megapixels." in response.content.decode()
    assert nothing_written_for(order) == before


def test_a_photo_on_the_return_confirm_is_stored_without_its_location(
    signed_in,
    order,
    shoes,
    reasons,
    django_capture_on_commit_callbacks,
    photo_with_gps,
):
    review = choose(signed_in, order, {shoes: 1}, reasons["damaged"])

    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(signed_in, order, review, photos=[photo_with_gps()])

    assert response.status_code == 302
    attachment = ReturnRequest.objects.get().ticket.attachments.get()
    with attachment.file.open("rb") as stored, Image.open(io.BytesIO(stored.read())) as image:
        exif = image.getexif()
        assert dict(exif) == {ExifTags.Base.Orientation: 6}
        assert dict(exif.get_ifd(ExifTags.IFD.GPSInfo)) == {}
