"""The queue as it opens is read by one compiled statement (``CompiledRead``): the same rows as
the ORM's read, for every role and order, another merchant's tickets never among them."""

import pytest

from aftersales.models import Membership
from aftersales.tests.factories import MembershipFactory, MerchantFactory
from tickets.models import TicketKind, TicketPriority, TicketStatus
from tickets.selectors import QUEUE_PAGE_SIZE, QueueKey, QueueSort, TicketFilters, ticket_queue_page
from tickets.selectors.tickets import _QUEUE_ORDERS, _queue_read
from tickets.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _read_by_the_orm(membership: Membership, sort: str) -> list:
    return list(
        _queue_read(membership=membership, filters=TicketFilters()).order_by(*_QUEUE_ORDERS[sort].forward)[
            : QUEUE_PAGE_SIZE + 1
        ]
    )


@pytest.mark.parametrize("role", [Membership.Role.AGENT, Membership.Role.TECHNICIAN, Membership.Role.WAREHOUSE])
@pytest.mark.parametrize("sort", [QueueSort.ATTENTION, QueueSort.DEADLINE])
def test_the_opened_queue_reads_what_the_orm_reads(merchant, make_ticket, role, sort):
    # Given a member of each role, and tickets of several kinds, one assigned to the member, one closed
    member = MembershipFactory(merchant=merchant, role=role)
    make_ticket(subject="support")
    repair = make_ticket(kind=TicketKind.REPAIR, subject="repair", priority=TicketPriority.HIGH)
    repair.assignee = member.user
    repair.save()
    make_ticket(kind=TicketKind.RETURN, subject="return")
    TicketFactory(merchant=merchant, status=TicketStatus.CLOSED)

    # When the queue opens
    page = ticket_queue_page(membership=member, filters=TicketFilters(), sort=sort)

    # Then it lists what the ORM's read lists, with the same related rows and warning times
    expected = _read_by_the_orm(member, sort)
    assert [t.pk for t in page.tickets] == [t.pk for t in expected]
    assert [(t.customer, t.order, t.assignee, t.next_warn_at) for t in page.tickets] == [
        (t.customer, t.order, t.assignee, t.next_warn_at) for t in expected
    ]
    assert len(page.tickets) == {"agent": 3, "technician": 1, "warehouse": 2}[role]
    assert (page.next_key, page.previous_key) == (None, None)


def test_the_opened_queue_sees_a_new_ticket_at_once_and_never_another_merchants(merchant, agent, make_ticket):
    # Given the queue read once, and a ticket of another merchant
    membership = Membership.objects.get(merchant=merchant, user=agent)
    first = make_ticket(subject="first")
    assert [t.pk for t in ticket_queue_page(membership=membership, filters=TicketFilters()).tickets] == [first.pk]
    TicketFactory(merchant=MerchantFactory())

    # When a ticket is opened and the queue read again
    second = make_ticket(subject="second")
    page = ticket_queue_page(membership=membership, filters=TicketFilters())

    # Then the new ticket is listed, and nothing of the other merchant
    assert [t.pk for t in page.tickets] == [first.pk, second.pk]
    assert {t.merchant_id for t in page.tickets} == {merchant.pk}


def test_a_full_first_page_gives_the_key_of_its_last_row(merchant, agent):
    # Given one ticket more than a page
    membership = Membership.objects.get(merchant=merchant, user=agent)
    TicketFactory.create_batch(QUEUE_PAGE_SIZE + 1, merchant=merchant)

    # When the queue opens
    page = ticket_queue_page(membership=membership, filters=TicketFilters())

    # Then it shows a page, and the next page starts after its last row
    assert len(page.tickets) == QUEUE_PAGE_SIZE
    assert page.next_key == QueueKey.of(page.tickets[-1], QueueSort.ATTENTION)
    assert page.previous_key is None
    following = ticket_queue_page(membership=membership, filters=TicketFilters(), after=page.next_key)
    assert len(following.tickets) == 1
    assert following.tickets[0].pk not in {t.pk for t in page.tickets}
