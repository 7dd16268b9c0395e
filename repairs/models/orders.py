"""Repair orders, with the one table of allowed status changes, and their diagnosis codes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.models import MerchantOwnedModel

from .centres import ServiceAddressFields


class RepairStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    IN_WARRANTY = "in_warranty", _("In warranty")
    OUT_OF_WARRANTY = "out_of_warranty", _("Out of warranty")
    GOODWILL = "goodwill", _("Goodwill")
    REJECTED = "rejected", pgettext_lazy("repair status", "Rejected")
    QUOTED = "quoted", _("Quoted")
    QUOTE_APPROVED = "quote_approved", _("Quote approved")
    DECLINED = "declined", _("Quote declined")
    EXPIRED = "expired", _("Quote expired")
    SCHEDULED = "scheduled", _("Visit scheduled")
    ON_SITE = "on_site", _("Technician on site")
    AWAITING_DEVICE = "awaiting_device", _("Awaiting the device")
    DEVICE_RECEIVED = "device_received", _("Device received")
    DIAGNOSING = "diagnosing", _("Diagnosing")
    WAITING_PARTS = "waiting_parts", _("Waiting for parts")
    IN_REPAIR = "in_repair", _("In repair")
    QC = "qc", _("Quality check")
    READY = "ready", _("Ready to go back")
    RETURNED = "returned", pgettext_lazy("repair status", "Returned")
    REPLACED = "replaced", _("Replaced")
    REFUNDED = "refunded", pgettext_lazy("repair status", "Refunded")
    CLOSED = "closed", pgettext_lazy("repair status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("repair status", "Cancelled")


class Remedy(models.TextChoices):
    """What the customer asks for, as the 三包 floor names the remedies."""

    RETURN = "return", _("Return for a refund")
    EXCHANGE = "exchange", _("Exchange")
    REPAIR = "repair", _("Repair")


class RepairMode(models.TextChoices):
    ON_SITE = "on_site", _("On-site visit")
    MAIL_IN = "mail_in", _("Mail-in")
    SERVICE_CENTRE = "service_centre", _("Service centre (carry-in)")


S = RepairStatus
# DESIGN.md, "Repair order", refined: the one table of allowed moves.
REPAIR_TRANSITIONS: dict[str, frozenset[str]] = {
    # Triage: eligibility decided with reasons, per coverage.
    S.REQUESTED: frozenset({S.IN_WARRANTY, S.OUT_OF_WARRANTY, S.GOODWILL, S.REJECTED, S.CANCELLED}),
    # Work the merchant pays for: booked on site (dispatch) or the device comes in.
    S.IN_WARRANTY: frozenset({S.SCHEDULED, S.AWAITING_DEVICE, S.DEVICE_RECEIVED, S.CANCELLED}),
    S.GOODWILL: frozenset({S.SCHEDULED, S.AWAITING_DEVICE, S.DEVICE_RECEIVED, S.CANCELLED}),
    S.OUT_OF_WARRANTY: frozenset({S.QUOTED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    # A quote is sent before the device comes in (out of warranty) or after a diagnosis.
    S.QUOTED: frozenset({S.QUOTE_APPROVED, S.DECLINED, S.EXPIRED, S.CANCELLED}),
    # Approved before the device came: book or receive it; approved after a diagnosis: repair it.
    S.QUOTE_APPROVED: frozenset(
        {S.SCHEDULED, S.AWAITING_DEVICE, S.DEVICE_RECEIVED, S.IN_REPAIR, S.WAITING_PARTS, S.CANCELLED}
    ),
    # Declined or expired with the device in hand: it goes back unrepaired; without it: closed.
    S.DECLINED: frozenset({S.READY, S.CLOSED}),
    S.EXPIRED: frozenset({S.READY, S.CLOSED}),
    # Visits belong to dispatch: booked (scheduled), the technician arrives (on_site).
    S.SCHEDULED: frozenset({S.ON_SITE, S.CANCELLED}),
    # A second visit with the parts goes straight to the repair.
    S.ON_SITE: frozenset({S.DIAGNOSING, S.IN_REPAIR, S.CANCELLED}),
    S.AWAITING_DEVICE: frozenset({S.DEVICE_RECEIVED, S.CANCELLED}),
    S.DEVICE_RECEIVED: frozenset({S.DIAGNOSING, S.CANCELLED}),
    S.DIAGNOSING: frozenset({S.QUOTED, S.WAITING_PARTS, S.IN_REPAIR, S.REPLACED, S.REFUNDED, S.CANCELLED}),
    # Parts in: repaired at the bench, or, on site, another visit is booked.
    S.WAITING_PARTS: frozenset({S.IN_REPAIR, S.SCHEDULED, S.REPLACED, S.REFUNDED, S.CANCELLED}),
    S.IN_REPAIR: frozenset({S.QC, S.WAITING_PARTS, S.REPLACED, S.REFUNDED}),
    # QC passed: back to the customer (ready), or on site it is already with them (returned).
    S.QC: frozenset({S.IN_REPAIR, S.READY, S.RETURNED}),
    S.READY: frozenset({S.RETURNED}),
    S.RETURNED: frozenset({S.CLOSED}),
    S.REPLACED: frozenset({S.CLOSED}),
    S.REFUNDED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
    S.CANCELLED: frozenset(),
}
# The merchant pays for the work (the triage outcomes that lead to a repair).
COVERED_STATUSES = (S.IN_WARRANTY, S.GOODWILL, S.QUOTE_APPROVED)
# An on-site repair in one of these, with no visit booked, waits for dispatch to schedule it.
TO_SCHEDULE_STATUSES = (S.IN_WARRANTY, S.GOODWILL, S.QUOTE_APPROVED, S.WAITING_PARTS)
FINAL_STATUSES = (S.CLOSED, S.CANCELLED, S.REJECTED)
# The device is with the merchant (or the technician): what the timeline calls "in our hands".
DEVICE_HELD_STATUSES = (S.DEVICE_RECEIVED, S.DIAGNOSING, S.WAITING_PARTS, S.IN_REPAIR, S.QC, S.READY)
OPEN_STATUSES = tuple(status for status in RepairStatus.values if status not in FINAL_STATUSES)
del S


class Responsibility(models.TextChoices):
    PRODUCT_DEFECT = "product_defect", _("Product defect (merchant or manufacturer)")
    INSTALLATION = "installation", _("Installation fault")
    CUSTOMER = "customer", _("Customer (user damage)")
    COURIER = "courier", _("Courier")
    NONE = "none", _("No fault found")


class DiagnosisCode(MerchantOwnedModel):
    """A diagnosis the technician picks, per category, with who is responsible; a customer-caused
    fault takes the repair out of warranty (it needs a quote)."""

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=100, blank=True, help_text=_("Empty: every category."))
    responsibility = models.CharField(_("responsibility"), max_length=20, choices=Responsibility.choices)
    voids_warranty = models.BooleanField(
        _("voids the warranty"), default=False, help_text=_("The repair needs a quote the customer approves.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("diagnosis code")
        verbose_name_plural = _("diagnosis codes")
        ordering = ["merchant_id", "category", "code"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="diagnosiscode_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RepairOrder(MerchantOwnedModel, ServiceAddressFields):
    """The repair workflow of one ticket of kind ``repair``; the address fields are the service
    address as the customer gave it (a snapshot: later edits of the customer change nothing)."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="repair_order", verbose_name=_("ticket")
    )
    customer = models.ForeignKey(
        "aftersales.Customer", on_delete=models.PROTECT, related_name="repair_orders", verbose_name=_("customer")
    )
    order_line = models.ForeignKey(
        "aftersales.OrderLine",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_orders",
        verbose_name=_("order line"),
    )
    registration = models.ForeignKey(
        "repairs.WarrantyRegistration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_orders",
        verbose_name=_("registration"),
    )
    product = models.ForeignKey(
        "aftersales.Product", on_delete=models.PROTECT, related_name="repair_orders", verbose_name=_("product")
    )
    serial_number = models.CharField(_("serial number"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RepairStatus.choices, default=RepairStatus.REQUESTED)
    mode = models.CharField(_("service mode"), max_length=20, choices=RepairMode.choices)
    service_centre = models.ForeignKey(
        "repairs.ServiceCentre",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_orders",
        verbose_name=_("service centre"),
    )
    fault_description = models.TextField(_("fault, in the customer's words"))
    remedy_wanted = models.CharField(
        _("remedy the customer asks for"), max_length=20, choices=Remedy.choices, default=Remedy.REPAIR
    )
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    requested_at = models.DateTimeField(_("requested"))
    submission_key = models.CharField(_("submission key"), max_length=64, blank=True, editable=False)
    # Triage: eligibility per coverage with its reasons, and the 三包 floor in force, as they were.
    eligibility = models.JSONField(_("eligibility at triage"), default=dict, blank=True)
    legal_floor = models.JSONField(_("三包 rule in force"), default=dict, blank=True)
    decided_at = models.DateTimeField(_("triaged"), null=True, blank=True)
    rejection_reason = models.TextField(_("why it was rejected"), blank=True)
    # Diagnosis.
    diagnosis_code = models.ForeignKey(
        DiagnosisCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_orders",
        verbose_name=_("diagnosis"),
    )
    diagnosis_note = models.TextField(_("diagnosis note"), blank=True)
    diagnosed_at = models.DateTimeField(_("diagnosed"), null=True, blank=True)
    diagnosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("diagnosed by"),
    )
    device_received_at = models.DateTimeField(_("device received"), null=True, blank=True)
    parts_expected_on = models.DateField(_("parts expected"), null=True, blank=True)
    qc_failures = models.PositiveSmallIntegerField(_("failed quality checks"), default=0)
    # Repeat-visit guarantee: the same fault on the same serial within the revisit window.
    repeat_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repeats",
        verbose_name=_("repeat of"),
    )
    has_repeat = models.BooleanField(_("came back as a repeat"), default=False)
    repair_failed = models.BooleanField(
        _("repair failed"), default=False, help_text=_("The same fault came back: counts for the 三包 repeat rule.")
    )
    return_tracking_number = models.CharField(_("return tracking number"), max_length=100, blank=True)
    return_carrier = models.CharField(_("return carrier"), max_length=100, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    customer_confirmed_at = models.DateTimeField(_("confirmed by the customer"), null=True, blank=True)
    # Unrepairable or the 三包 repeat rule: settled through a return request on the same line.
    settlement_return = models.OneToOneField(
        "returns.ReturnRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repair_order",
        verbose_name=_("settled through"),
    )

    class Meta:
        verbose_name = _("repair order")
        verbose_name_plural = _("repair orders")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=RepairStatus.values), name="repairorder_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=RepairMode.values), name="repairorder_mode_valid"),
            models.CheckConstraint(
                condition=~Q(mode=RepairMode.SERVICE_CENTRE) | Q(service_centre__isnull=False),
                name="repairorder_centre_for_carry_in",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (Q(latitude__gte=-90) & Q(latitude__lte=90) & Q(longitude__gte=-180) & Q(longitude__lte=180)),
                name="repairorder_coordinates_valid",
            ),
            models.UniqueConstraint(
                fields=["merchant", "submission_key"],
                condition=~Q(submission_key=""),
                name="repairorder_submission_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "status", "-requested_at"], name="repairorder_queue"),
            models.Index(fields=["merchant", "serial_number", "-requested_at"], name="repairorder_serial"),
            models.Index(fields=["merchant", "customer", "-requested_at"], name="repairorder_customer"),
            models.Index(fields=["merchant", "product", "-requested_at"], name="repairorder_product"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.number} ({self.get_status_display()})"

    def can_transition_to(self, status: str) -> bool:
        return status in REPAIR_TRANSITIONS[self.status]
