"""A return's journey: the parcel each way, what the warehouse found in it, and the claim on the
carrier when the parcel never arrived."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .requests import ReturnLine, ReturnRequest


class ShippingMethod(models.TextChoices):
    DROP_OFF = "drop_off", _("Drop-off with a carrier")
    PICKUP = "pickup", _("Home pickup")
    IN_STORE = "in_store", _("Hand in at a store")


class ShipmentDirection(models.TextChoices):
    TO_MERCHANT = "to_merchant", _("Customer to merchant")
    TO_CUSTOMER = "to_customer", _("Merchant to customer (rejected units)")


class ReturnShipment(MerchantOwnedModel):
    """One parcel of a return: the customer's to the merchant, or rejected units going back."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="shipments", verbose_name=_("return request")
    )
    direction = models.CharField(_("direction"), max_length=12, choices=ShipmentDirection.choices)
    method = models.CharField(_("how it goes"), max_length=10, choices=ShippingMethod.choices, blank=True)
    # The address as it was when the customer chose: a later edit of the policy never moves a parcel.
    return_address = models.TextField(_("return address"), blank=True)
    pickup_address = models.TextField(_("pickup address"), blank=True)
    pickup_slot_start = models.DateTimeField(_("pickup from"), null=True, blank=True)
    pickup_slot_end = models.DateTimeField(_("pickup until"), null=True, blank=True)
    pickup_booked_at = models.DateTimeField(_("pickup booked"), null=True, blank=True)
    pickup_reference = models.CharField(_("pickup booking reference"), max_length=64, blank=True)
    store_location = models.CharField(_("store"), max_length=200, blank=True)
    carrier = models.CharField(_("carrier"), max_length=50, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    # Declared lost in transit: the return was settled without it and the carrier claimed from.
    # A parcel that turns up later keeps this and gets its received_at too.
    lost_at = models.DateTimeField(_("declared lost"), null=True, blank=True)

    class Meta:
        verbose_name = _("return shipment")
        verbose_name_plural = _("return shipments")
        ordering = ["return_request_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["return_request", "direction"], name="returnshipment_one_per_direction"),
            # One parcel, one return: a tracking number on two returns is a mistake or a fraud.
            models.UniqueConstraint(
                fields=["merchant", "carrier", "tracking_number"],
                condition=~Q(tracking_number=""),
                name="returnshipment_unique_tracking",
            ),
            models.CheckConstraint(
                condition=Q(direction__in=ShipmentDirection.values), name="returnshipment_direction_valid"
            ),
            models.CheckConstraint(
                condition=Q(method="") | Q(method__in=ShippingMethod.values), name="returnshipment_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(pickup_slot_start__isnull=True)
                | Q(pickup_slot_end__isnull=True)
                | Q(pickup_slot_end__gt=F("pickup_slot_start")),
                name="returnshipment_slot_ordered",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "tracking_number"], name="returnshipment_tracking")]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.carrier} {self.tracking_number}".strip()


class ItemGrade(models.TextChoices):
    AS_NEW = "as_new", _("As new")
    GOOD = "good", _("Good, signs of use")
    DAMAGED = "damaged", _("Damaged")
    UNUSABLE = "unusable", _("Unusable")


class Disposition(models.TextChoices):
    RESTOCK = "restock", _("Restock")
    REFURBISH = "refurbish", _("Refurbish")
    SCRAP = "scrap", _("Scrap")
    RETURN_TO_VENDOR = "return_to_vendor", _("Return to vendor")


class ReturnLineInspection(MerchantOwnedModel):
    """What the warehouse found for one line. The accepted and rejected counts live on the line
    (``ReturnLine.quantity_accepted``/``quantity_rejected``), where their bounds are checked."""

    return_line = models.OneToOneField(
        ReturnLine, on_delete=models.CASCADE, related_name="inspection", verbose_name=_("return line")
    )
    grade = models.CharField(_("grade"), max_length=10, choices=ItemGrade.choices)
    disposition = models.CharField(
        _("what happens to accepted units"), max_length=20, choices=Disposition.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    photos = models.ManyToManyField("tickets.Attachment", blank=True, related_name="+", verbose_name=_("photos"))
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("inspected by"),
    )
    inspected_at = models.DateTimeField(_("inspected"))

    class Meta:
        verbose_name = _("line inspection")
        verbose_name_plural = _("line inspections")
        constraints = [
            models.CheckConstraint(condition=Q(grade__in=ItemGrade.values), name="returninspection_grade_valid"),
            models.CheckConstraint(
                condition=Q(disposition="") | Q(disposition__in=Disposition.values),
                name="returninspection_disposition_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.return_line_id}: {self.get_grade_display()}"


class ClaimState(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid by the carrier")
    REJECTED = "rejected", _("Rejected by the carrier")
    WITHDRAWN = "withdrawn", _("Withdrawn: the parcel turned up")


C = ClaimState
# The one table of allowed moves of a carrier claim: it is decided once.
CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    C.OPEN: frozenset({C.PAID, C.REJECTED, C.WITHDRAWN}),
    C.PAID: frozenset(),
    C.REJECTED: frozenset(),
    C.WITHDRAWN: frozenset(),
}
del C


class CarrierClaim(MerchantOwnedModel):
    """What the merchant asks the carrier to pay for a return parcel lost in its hands.

    Opened when staff declare the parcel lost; by then the customer's return is already being
    settled, so the claim only decides how much of that money comes back to the merchant.
    """

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="carrier_claims", verbose_name=_("return request")
    )
    shipment = models.ForeignKey(
        ReturnShipment, on_delete=models.CASCADE, related_name="carrier_claims", verbose_name=_("return shipment")
    )
    # Copied from the parcel, as the carrier knows it when the claim is filed.
    carrier = models.CharField(_("carrier"), max_length=50)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    amount_claimed = models.DecimalField(_("amount claimed"), max_digits=12, decimal_places=2)
    # {order line id: units lost}: written off on the order lines while the claim stands.
    units_lost = models.JSONField(_("units lost"), default=dict, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    state = models.CharField(_("state"), max_length=10, choices=ClaimState.choices, default=ClaimState.OPEN)
    amount_recovered = models.DecimalField(
        _("amount recovered"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    carrier_reference = models.CharField(_("carrier's reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    decision_note = models.TextField(_("why it was rejected or withdrawn"), blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    opened_at = models.DateTimeField(_("opened"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("carrier claim")
        verbose_name_plural = _("carrier claims")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["return_request"],
                condition=Q(state=ClaimState.OPEN),
                name="carrierclaim_one_open_per_return",
            ),
            models.CheckConstraint(condition=Q(state__in=ClaimState.values), name="carrierclaim_state_valid"),
            models.CheckConstraint(condition=Q(amount_claimed__gte=0), name="carrierclaim_claimed_not_negative"),
            models.CheckConstraint(condition=Q(amount_recovered__gte=0), name="carrierclaim_recovered_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_recovered__lte=F("amount_claimed")), name="carrierclaim_recovered_le_claimed"
            ),
            # Money comes back only on a paid claim.
            models.CheckConstraint(
                condition=Q(state=ClaimState.PAID) | Q(amount_recovered=0), name="carrierclaim_recovered_only_paid"
            ),
            models.CheckConstraint(
                condition=Q(state=ClaimState.OPEN, decided_at__isnull=True)
                | (~Q(state=ClaimState.OPEN) & Q(decided_at__isnull=False)),
                name="carrierclaim_decided_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "state", "-opened_at", "-id"], name="carrierclaim_queue"),
            models.Index(fields=["merchant", "-created_at", "-id"], name="carrierclaim_created"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number} ({self.get_state_display()})"

    def can_transition_to(self, state: str) -> bool:
        return state in CLAIM_TRANSITIONS[self.state]
