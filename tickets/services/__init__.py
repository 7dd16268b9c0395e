"""Every write of the case hub: one module per family of use cases; re-exported here."""

from .routing import ticket_route
from .tickets import (
    MAX_BODY_LENGTH,
    ORPHAN_FILE_MIN_AGE,
    attachment_orphans_sweep,
    register_deadline_handlers,
    ticket_assign,
    ticket_change_priority,
    ticket_change_status,
    ticket_create,
    ticket_customer_message,
    ticket_follow_workflow,
    ticket_link_order,
    ticket_note,
    ticket_number_allocate,
    ticket_reminder_cancel,
    ticket_reminder_set,
    ticket_reply,
    ticket_set_tags,
)

__all__ = [
    "MAX_BODY_LENGTH",
    "ORPHAN_FILE_MIN_AGE",
    "attachment_orphans_sweep",
    "register_deadline_handlers",
    "ticket_assign",
    "ticket_change_priority",
    "ticket_change_status",
    "ticket_create",
    "ticket_customer_message",
    "ticket_follow_workflow",
    "ticket_link_order",
    "ticket_note",
    "ticket_number_allocate",
    "ticket_reminder_cancel",
    "ticket_reminder_set",
    "ticket_reply",
    "ticket_route",
    "ticket_set_tags",
]
