import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, OrderFactory, OrderLineFactory
from tickets.models import TicketChannel, TicketKind
from tickets.services import ticket_create


def png_upload(name: str = "photo.png", size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def order(db):
    order = OrderFactory()
    OrderLineFactory(order=order, line_number="1")
    OrderLineFactory(order=order, line_number="2", quantity=1)
    return order


@pytest.fixture
def merchant(order):
    return order.merchant


@pytest.fixture
def agent(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.AGENT).user


@pytest.fixture
def supervisor(merchant):
    return MembershipFactory(merchant=merchant, role=Membership.Role.SUPERVISOR).user


@pytest.fixture
def make_ticket(order):
    """Open a case the way the portal does, so it has its first message and event."""

    def make(**overrides):
        values = {
            "merchant": order.merchant,
            "kind": TicketKind.SUPPORT,
            "subject": "The tent pole snapped",
            "body": "One pole broke on the first night.",
            "customer": order.customer,
            "channel": TicketChannel.PORTAL,
            "order": order,
        }
        values.update(overrides)
        return ticket_create(**values)

    return make
