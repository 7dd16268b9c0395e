"""How the return's steps read on a case's timeline, for staff and customers alike."""

from django.utils.translation import gettext_lazy as _

RETURN_VERB_LABELS = {
    "return_submitted": _("submitted a return request"),
    "return_approved": _("approved the return"),
    "return_rejected": _("declined the return"),
    "return_cancelled": _("cancelled the return"),
    "return_flagged": _("held the return for review"),
    "return_revised": _("revised the return request"),
    "return_escalated": _("asked a supervisor to review the decision"),
    "return_rejection_final": _("the decision on the return became final"),
    "return_shipping_chosen": _("chose how to send the parcel back"),
    "return_pickup_booked": _("booked a pickup"),
    "return_in_transit": _("sent the parcel back"),
    "return_ship_reminder": _("reminded the customer to send the parcel"),
    "return_expired": _("the return expired: the parcel was not sent in time"),
    "return_received": _("received the parcel"),
    "return_inspected": _("inspected the items"),
    "return_inspection_details": _("recorded the inspection details"),
    "return_accepted_uninspected": _("accepted the items as requested: not inspected in time"),
    "return_parcel_lost": _("declared the parcel lost in transit and settled the return without it"),
    "return_rejected_units_sent": _("sent back the items that were not accepted"),
    "carrier_claim_opened": _("opened a claim with the carrier for the lost parcel"),
    "carrier_claim_paid": _("recorded the carrier's payment of the claim"),
    "carrier_claim_rejected": _("recorded that the carrier rejected the claim"),
    "carrier_claim_withdrawn": _("withdrew the carrier claim: the parcel turned up"),
    "return_quick_refund": _("refunded quickly while the parcel travels"),
    "return_quick_refund_flagged": _("flagged a quick refund after inspection"),
    "return_settling": _("started settling the return"),
    "return_completed": _("completed the return"),
    "refund_granted": _("granted a refund"),
    "refund_paid": _("paid the refund"),
    "refund_failed": _("the refund payment failed"),
    "refund_retried": _("retried the refund payment"),
    "refund_voided": _("withdrew a refund that had not been paid"),
    "store_credit_granted": _("granted store credit"),
    "replacement_shipped": _("shipped the replacement"),
    "exchange_difference_paid": _("confirmed the customer paid the exchange's price difference"),
    "exchange_difference_surplus": _(
        "granted the refund of the price difference paid for replacements that are not sent"
    ),
}
