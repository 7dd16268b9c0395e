"""The kinds of the hub's deadlines: plain names, so that the selectors can read the clocks without
importing the services and ``tickets.sla``, which start and stop them."""

KIND_PREFIX = "sla."
REMINDER_KIND = "reminder.staff"
# A ticket waiting on the customer closes itself when this falls due (``tickets.services.closing``).
PENDING_CLOSE_KIND = "ticket.pending_close"


def kind_of(target: str) -> str:
    """The deadline kind of an SLA target: ``first_response`` -> ``sla.first_response``."""
    return f"{KIND_PREFIX}{target}"


def target_of(kind: str) -> str:
    return kind.removeprefix(KIND_PREFIX)
