"""The one table: every allowed move of a repair goes through, and moves the ticket's generic
status with it; every other is refused with nothing changed."""

import pytest
from django.db import transaction

from aftersales.exceptions import TransitionNotAllowed
from repairs.locks import repair_order_lock
from repairs.models import REPAIR_TRANSITIONS, RepairOrder, RepairStatus
from repairs.services._transitions import TICKET_STATUS, repair_move
from repairs.tests.factories import RepairOrderFactory
from tickets.models import Ticket, TicketEvent, TicketStatus


class Rollback(Exception):
    pass


def test_the_table_names_every_status_and_only_statuses():
    assert set(REPAIR_TRANSITIONS) == set(RepairStatus.values)
    assert all(targets <= set(RepairStatus.values) for targets in REPAIR_TRANSITIONS.values())
    assert set(TICKET_STATUS) == set(RepairStatus.values)


def test_final_statuses_lead_nowhere_and_cancel_is_refused_once_the_repair_is_in_hand():
    assert REPAIR_TRANSITIONS[RepairStatus.CLOSED] == frozenset()
    assert REPAIR_TRANSITIONS[RepairStatus.CANCELLED] == frozenset()
    assert REPAIR_TRANSITIONS[RepairStatus.REJECTED] == frozenset()
    for late in (RepairStatus.IN_REPAIR, RepairStatus.QC, RepairStatus.READY, RepairStatus.RETURNED):
        assert RepairStatus.CANCELLED not in REPAIR_TRANSITIONS[late]


@pytest.mark.django_db
@pytest.mark.parametrize("current", RepairStatus.values)
def test_every_move_from_a_status_is_allowed_exactly_as_the_table_says(current):
    repair = RepairOrderFactory(status=current)
    ticket_before = Ticket.objects.get(pk=repair.ticket_id).status
    for target in RepairStatus.values:
        allowed = target in REPAIR_TRANSITIONS[current]
        try:
            with transaction.atomic():
                locked = repair_order_lock(repair.pk, with_ticket=True)
                if allowed:
                    repair_move(locked, target)
                    assert RepairOrder.objects.get(pk=repair.pk).status == target
                    expected_ticket = TICKET_STATUS[target]
                    if expected_ticket != TicketStatus.NEW:
                        assert Ticket.objects.get(pk=repair.ticket_id).status == expected_ticket
                    raise Rollback
                with pytest.raises(TransitionNotAllowed) as refused:
                    repair_move(locked, target)
                assert refused.value.extra == {"from": current, "to": target}
        except Rollback:
            pass
        assert RepairOrder.objects.get(pk=repair.pk).status == current
        assert Ticket.objects.get(pk=repair.ticket_id).status == ticket_before
    assert not TicketEvent.objects.filter(ticket_id=repair.ticket_id).exists()
