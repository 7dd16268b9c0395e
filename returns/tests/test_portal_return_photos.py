"""Photos on the portal's return confirm: a decompression bomb is a form error with nothing
written, and a photo is stored without its location."""

import io

import pytest
from PIL import ExifTags, Image

from returns.models import ReturnRequest
from returns.tests import test_portal_returns as portal
from returns.tests.test_portal_returns import choose, confirm, nothing_written
from tickets.tests.test_upload_images import bomb_upload, photo_with_gps

pytestmark = pytest.mark.django_db

# The portal return tests' fixtures: a shop, its policy and reasons, an order, a signed-in customer.
order = portal.order
policy = portal.policy
private_storage = portal.private_storage
reasons = portal.reasons
shoes = portal.shoes
shop = portal.shop
signed_in = portal.signed_in


def test_a_bomb_on_the_return_confirm_is_a_form_error_with_nothing_written(signed_in, order, shoes, reasons):
    review = choose(signed_in, order, {shoes: 1}, reasons["damaged"])
    before = nothing_written(order)

    response = confirm(signed_in, order, review, photos=[bomb_upload()])

    assert response.status_code == 200
    assert "bomb.png is too large a picture; the limit is 50 megapixels." in response.content.decode()
    assert nothing_written(order) == before


def test_a_photo_on_the_return_confirm_is_stored_without_its_location(
    signed_in,
    order,
    shoes,
    reasons,
    django_capture_on_commit_callbacks,
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
