"""How the return's steps read on a case's timeline, for staff and customers alike: every event
verb returns appends, as TextChoices like the hub's ``TicketEvent.Verb``. Registered with the
hub's timeline by ``ReturnsConfig.ready()``, so the hub never imports returns."""

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tickets.system_texts import SystemText


class ReturnVerb(models.TextChoices):
    SUBMITTED = "return_submitted", _("submitted a return request")
    APPROVED = "return_approved", _("approved the return")
    REJECTED = "return_rejected", _("declined the return")
    CANCELLED = "return_cancelled", _("cancelled the return")
    FLAGGED = "return_flagged", _("held the return for review")
    REVISED = "return_revised", _("revised the return request")
    ESCALATED = "return_escalated", _("asked a supervisor to review the decision")
    REJECTION_FINAL = "return_rejection_final", _("the decision on the return became final")
    SHIPPING_CHOSEN = "return_shipping_chosen", _("chose how to send the parcel back")
    PICKUP_BOOKED = "return_pickup_booked", _("booked a pickup")
    IN_TRANSIT = "return_in_transit", _("sent the parcel back")
    SHIP_REMINDER = "return_ship_reminder", _("reminded the customer to send the parcel")
    EXPIRED = "return_expired", _("the return expired: the parcel was not sent in time")
    RECEIVED = "return_received", _("received the parcel")
    INSPECTED = "return_inspected", _("inspected the items")
    INSPECTION_DETAILS = "return_inspection_details", _("recorded the inspection details")
    ACCEPTED_UNINSPECTED = "return_accepted_uninspected", _("accepted the items as requested: not inspected in time")
    PARCEL_LOST = "return_parcel_lost", _("declared the parcel lost in transit and settled the return without it")
    REJECTED_UNITS_SENT = "return_rejected_units_sent", _("sent back the items that were not accepted")
    CARRIER_CLAIM_OPENED = "carrier_claim_opened", _("opened a claim with the carrier for the lost parcel")
    CARRIER_CLAIM_PAID = "carrier_claim_paid", _("recorded the carrier's payment of the claim")
    CARRIER_CLAIM_REJECTED = "carrier_claim_rejected", _("recorded that the carrier rejected the claim")
    CARRIER_CLAIM_WITHDRAWN = "carrier_claim_withdrawn", _("withdrew the carrier claim: the parcel turned up")
    QUICK_REFUND = "return_quick_refund", _("refunded quickly while the parcel travels")
    QUICK_REFUND_FLAGGED = "return_quick_refund_flagged", _("flagged a quick refund after inspection")
    SETTLING = "return_settling", _("started settling the return")
    COMPLETED = "return_completed", _("completed the return")
    REFUND_GRANTED = "refund_granted", _("granted a refund")
    REFUND_PAID = "refund_paid", _("paid the refund")
    REFUND_FAILED = "refund_failed", _("the refund payment failed")
    REFUND_RETRIED = "refund_retried", _("retried the refund payment")
    REFUND_VOIDED = "refund_voided", _("withdrew a refund that had not been paid")
    STORE_CREDIT_GRANTED = "store_credit_granted", _("granted store credit")
    REPLACEMENT_SHIPPED = "replacement_shipped", _("shipped the replacement")
    EXCHANGE_DIFFERENCE_PAID = (
        "exchange_difference_paid",
        _("confirmed the customer paid the exchange's price difference"),
    )
    EXCHANGE_DIFFERENCE_SURPLUS = (
        "exchange_difference_surplus",
        _("granted the refund of the price difference paid for replacements that are not sent"),
    )


def return_verb_labels() -> dict[str, object]:
    """Each verb's label, for ``tickets.timeline.register_verb_labels``."""
    return {verb.value: verb.label for verb in ReturnVerb}


# Every step of a return, exchange or refund-only claim, and the message that tells the customer
# of it on their channels (``tickets.notify.notify_customer``), in their language. None: the step
# tells them nothing new — it is internal, it is their own act (they see it on the page they did
# it on), or another step's message says it (a refund's grant is told when it is paid). A verb
# added above must be placed here; the tests drive every step that has a message.
CUSTOMER_MESSAGES: dict[str, str | None] = {
    ReturnVerb.SUBMITTED: "ticket_created",
    ReturnVerb.APPROVED: "return_approved",
    ReturnVerb.REJECTED: "return_rejected",
    ReturnVerb.CANCELLED: "return_cancelled",
    ReturnVerb.FLAGGED: None,  # internal: the customer is not told what made it stand out
    ReturnVerb.REVISED: None,  # their own act
    ReturnVerb.ESCALATED: None,  # their own act; the supervisor's decision is told as approved/rejected
    ReturnVerb.REJECTION_FINAL: None,  # the rejection's message named the last day to revise
    ReturnVerb.SHIPPING_CHOSEN: "return_ship_instructions",
    ReturnVerb.PICKUP_BOOKED: "return_pickup_booked",
    ReturnVerb.IN_TRANSIT: None,  # their own act (or the carrier's scan of their parcel)
    ReturnVerb.SHIP_REMINDER: "return_ship_reminder",
    ReturnVerb.EXPIRED: "return_expired",
    ReturnVerb.RECEIVED: "return_received",
    ReturnVerb.INSPECTED: "return_inspected",
    ReturnVerb.INSPECTION_DETAILS: None,  # internal: grades and dispositions
    ReturnVerb.ACCEPTED_UNINSPECTED: None,  # told by the refund, credit or replacement that follows
    ReturnVerb.PARCEL_LOST: "return_parcel_lost",
    ReturnVerb.REJECTED_UNITS_SENT: "return_rejected_units_sent",
    ReturnVerb.CARRIER_CLAIM_OPENED: None,  # between the shop and the carrier
    ReturnVerb.CARRIER_CLAIM_PAID: None,
    ReturnVerb.CARRIER_CLAIM_REJECTED: None,
    ReturnVerb.CARRIER_CLAIM_WITHDRAWN: None,
    ReturnVerb.QUICK_REFUND: None,  # told when the refund is paid
    ReturnVerb.QUICK_REFUND_FLAGGED: None,  # internal
    ReturnVerb.SETTLING: None,  # told by each refund, credit and replacement
    ReturnVerb.COMPLETED: "return_completed",
    ReturnVerb.REFUND_GRANTED: None,  # told when it is paid
    ReturnVerb.REFUND_PAID: "return_refunded",
    ReturnVerb.REFUND_FAILED: None,  # internal: the shop re-drives it
    ReturnVerb.REFUND_RETRIED: None,
    ReturnVerb.REFUND_VOIDED: None,  # internal: a grant withdrawn before it was paid
    ReturnVerb.STORE_CREDIT_GRANTED: "return_store_credit_issued",
    ReturnVerb.REPLACEMENT_SHIPPED: "return_replacement_shipped",
    ReturnVerb.EXCHANGE_DIFFERENCE_PAID: "return_exchange_difference_paid",
    ReturnVerb.EXCHANGE_DIFFERENCE_SURPLUS: None,  # told when that refund is paid
}


# The subjects returns gives a return's case, kept as keys (tickets.system_texts), by ticket kind.
RETURN_SUBJECTS = {
    "return": "returns.return_subject",
    "exchange": "returns.exchange_subject",
    "refund_only": "returns.refund_only_subject",
}


def return_system_texts() -> dict[str, "SystemText | Promise"]:
    return {
        RETURN_SUBJECTS["return"]: _("Return: %(items)s"),
        RETURN_SUBJECTS["exchange"]: _("Exchange: %(items)s"),
        RETURN_SUBJECTS["refund_only"]: _("Refund only: %(items)s"),
    }
