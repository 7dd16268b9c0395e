"""The agent acts on a return from the ticket page: the return's decisions and next steps come in
the returns box (tickets.panels, registered by returns), and each comes back to the ticket page."""

import pytest
from django.urls import reverse

from aftersales.tests.builders import flash_messages
from returns.models import ReturnRequest, ReturnStatus
from returns.tests.builders import drive, every_resolution_world, submit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return every_resolution_world()


def ticket_page(return_request) -> str:
    return reverse("dashboard:ticket", kwargs={"number": return_request.ticket.number})


def test_the_ticket_page_of_a_new_return_offers_approve_and_reject_coming_back_to_it(client, world):
    return_request = submit(world)
    client.force_login(world.agent)

    page = client.get(ticket_page(return_request)).content.decode()

    approve = reverse("dashboard:return_approve", kwargs={"number": return_request.ticket.number})
    reject = reverse("dashboard:return_reject", kwargs={"number": return_request.ticket.number})
    assert f'action="{approve}"' in page
    assert f'action="{reject}"' in page
    assert f'<input type="hidden" name="next" value="{ticket_page(return_request)}">' in page


def test_approving_from_the_ticket_page_approves_once_and_comes_back_to_it(client, world):
    return_request = submit(world)
    client.force_login(world.agent)
    approve = reverse("dashboard:return_approve", kwargs={"number": return_request.ticket.number})

    response = client.post(approve, {"note": "", "next": ticket_page(return_request)})

    assert response.status_code == 302
    assert response["Location"] == ticket_page(return_request)
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.APPROVED
    assert TicketEvent.objects.filter(ticket_id=return_request.ticket_id, verb="return_approved").count() == 1
    assert flash_messages(client.get(response["Location"])) == ["Return approved."]


def test_a_next_that_is_not_the_returns_ticket_page_goes_back_to_the_return(client, world):
    return_request = submit(world)
    client.force_login(world.agent)
    approve = reverse("dashboard:return_approve", kwargs={"number": return_request.ticket.number})

    response = client.post(approve, {"note": "", "next": "https://evil.example.com/"})

    assert response["Location"] == reverse("dashboard:return", kwargs={"number": return_request.ticket.number})


def test_a_received_parcel_is_inspected_from_the_ticket_page(client, world):
    return_request = drive(world, submit(world), ReturnStatus.RECEIVED)
    client.force_login(world.agent)

    page = client.get(ticket_page(return_request)).content.decode()

    inspect = reverse("dashboard:return_inspect", kwargs={"number": return_request.ticket.number})
    assert f'action="{inspect}"' in page
    assert 'aria-label="Inspect"' in page


def test_another_merchants_member_neither_sees_nor_acts_on_the_return(client, world):
    return_request = submit(world)
    other = every_resolution_world()
    client.force_login(other.agent)
    approve = reverse("dashboard:return_approve", kwargs={"number": return_request.ticket.number})

    page = client.get(ticket_page(return_request))
    response = client.post(approve, {"note": "", "next": ticket_page(return_request)})

    assert page.status_code == 404
    assert response.status_code == 404
    assert ReturnRequest.objects.get(pk=return_request.pk).status == ReturnStatus.SUBMITTED
