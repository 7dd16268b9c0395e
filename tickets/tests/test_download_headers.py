"""A file a customer uploaded is served to staff with the same sandbox as to the customer: no
script in it runs under the site's origin, whoever opens it."""

import pytest
from django.urls import reverse

from aftersales.tests.builders import sign_in
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

SANDBOX = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def test_staff_and_customer_downloads_send_the_same_sandbox(
    client, agent, order, make_ticket, django_capture_on_commit_callbacks, png_upload
):
    make_ticket(files=[png_upload("photo.png")])
    attachment = Attachment.objects.get()

    client.force_login(agent)
    staff = client.get(reverse("dashboard:attachment", args=[attachment.pk]))
    client.logout()
    sign_in(client, django_capture_on_commit_callbacks, order)
    customer = client.get(reverse("portal:attachment", args=[order.merchant.slug, attachment.pk]))

    assert (staff.status_code, customer.status_code) == (200, 200)
    assert staff["Content-Security-Policy"] == SANDBOX
    assert customer["Content-Security-Policy"] == SANDBOX
    assert staff["X-Content-Type-Options"] == customer["X-Content-Type-Options"] == "nosniff"
