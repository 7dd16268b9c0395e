"""What integrations are told about repairs: ``repair.status_changed`` on every status change."""

from aftersales.services.webhooks import webhook_event_queue
from repairs.models import RepairOrder

STATUS_CHANGED = "repair.status_changed"


def repair_status_changed(repair_order: RepairOrder, *, previous: str) -> None:
    """Queue the event for a (locked) repair that has just moved, inside the move's transaction."""
    ticket = repair_order.ticket
    webhook_event_queue(
        merchant=repair_order.merchant_id,
        event=STATUS_CHANGED,
        data={
            "repair": {
                "id": repair_order.pk,
                "number": ticket.number,
                "status": repair_order.status,
                "previous_status": previous,
                "mode": repair_order.mode,
                "serial_number": repair_order.serial_number,
                "product_id": repair_order.product_id,
                "customer_id": repair_order.customer_id,
            }
        },
        ticket=ticket,
    )
