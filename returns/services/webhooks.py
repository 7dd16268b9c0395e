"""What integrations are told about returns: ``return.status_changed`` on every status change."""

from aftersales.services.webhooks import webhook_event_queue
from returns.models import ReturnRequest

STATUS_CHANGED = "return.status_changed"


def return_status_changed(return_request: ReturnRequest, *, previous: str) -> None:
    """Queue the event for a (locked) return that has just moved from ``previous`` to its status.

    Called by each service's ``_move``, inside the transition's transaction: a transition that is
    refused or rolled back later sends nothing.
    """
    ticket = return_request.ticket
    webhook_event_queue(
        merchant=return_request.merchant_id,
        event=STATUS_CHANGED,
        data={
            "return": {
                "id": return_request.pk,
                "number": ticket.number,
                "status": return_request.status,
                "previous_status": previous,
                "resolution": return_request.resolution,
                "order_id": return_request.order_id,
                "customer_id": return_request.customer_id,
            }
        },
        ticket=ticket,
    )
