"""Complaints: a ticket of kind ``complaint`` carries one ``Complaint`` with what a complaints
desk decides (severity, category, who is responsible and on what evidence), its escalation tier,
the compensation offered and paid, the regulator cases that came with it, and, when it closes,
the root cause and the corrective action (ISO 10002's continual improvement).

Every change goes through ``tickets.services.complaints`` and appends a ``TicketEvent``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


class ComplaintSeverity(models.TextChoices):
    NORMAL = "normal", _("Normal")
    SERIOUS = "serious", _("Serious")
    CRITICAL = "critical", _("Critical")


class ComplaintCategory(models.TextChoices):
    PRODUCT_QUALITY = "product_quality", _("Product quality")
    DELIVERY = "delivery", _("Delivery")
    SERVICE = "service", _("Service attitude")
    AFTER_SALES = "after_sales", _("After-sales handling")
    PRICE = "price", _("Price or promotion")
    ADVERTISING = "advertising", _("Misleading description")
    PRIVACY = "privacy", _("Privacy")
    OTHER = "other", _("Other")


class ResponsibleParty(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    CARRIER = "carrier", _("Carrier")
    SUPPLIER = "supplier", _("Manufacturer or supplier")
    PLATFORM = "platform", _("Platform")
    CUSTOMER = "customer", _("Customer")


# The parties outside the merchant who are asked for an answer, on a deadline of their own.
THIRD_PARTIES = (ResponsibleParty.CARRIER, ResponsibleParty.SUPPLIER, ResponsibleParty.PLATFORM)


class EscalationTier(models.IntegerChoices):
    AGENT = 0, _("Agent")
    SUPERVISOR = 1, _("Supervisor")
    MANAGER = 2, _("Manager")


class CompensationSettings(MerchantOwnedModel):
    """How much each role may grant without asking: an agent up to ``agent_limit``, a supervisor up
    to ``supervisor_limit``, a merchant admin without limit; and the SLA of each escalation tier."""

    merchant = models.OneToOneField(
        "aftersales.Merchant",
        on_delete=models.CASCADE,
        related_name="compensation_settings",
        verbose_name=_("merchant"),
    )
    agent_limit = models.DecimalField(_("an agent grants up to"), default=50, max_digits=12, decimal_places=2)
    supervisor_limit = models.DecimalField(_("a supervisor grants up to"), default=500, max_digits=12, decimal_places=2)
    agent_tier_hours = models.PositiveIntegerField(_("agent tier: answer within (business hours)"), default=24)
    supervisor_tier_hours = models.PositiveIntegerField(_("supervisor tier: answer within (business hours)"), default=8)
    manager_tier_hours = models.PositiveIntegerField(_("manager tier: answer within (business hours)"), default=4)
    third_party_hours = models.PositiveIntegerField(
        _("a responsible third party answers within (business hours)"), default=16
    )

    class Meta:
        verbose_name = _("compensation and complaint settings")
        verbose_name_plural = _("compensation and complaint settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(agent_limit__gte=0) & Q(supervisor_limit__gte=models.F("agent_limit")),
                name="compensationsettings_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.agent_limit} / {self.supervisor_limit}"

    def tier_hours(self, tier: int) -> int:
        hours: int = {
            EscalationTier.AGENT: self.agent_tier_hours,
            EscalationTier.SUPERVISOR: self.supervisor_tier_hours,
            EscalationTier.MANAGER: self.manager_tier_hours,
        }[EscalationTier(tier)]
        return hours


class Complaint(MerchantOwnedModel):
    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="complaint", verbose_name=_("ticket")
    )
    severity = models.CharField(
        _("severity"), max_length=10, choices=ComplaintSeverity.choices, default=ComplaintSeverity.NORMAL
    )
    category = models.CharField(
        _("category"), max_length=20, choices=ComplaintCategory.choices, default=ComplaintCategory.OTHER
    )
    # Copied from the ticket, so that the report groups without a join.
    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("store")
    )

    responsible_party = models.CharField(
        _("responsible party"), max_length=10, choices=ResponsibleParty.choices, blank=True
    )
    responsibility_evidence = models.TextField(_("evidence"), blank=True)
    responsibility_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsibility decided by"),
    )
    responsibility_decided_at = models.DateTimeField(_("responsibility decided"), null=True, blank=True)
    third_party_name = models.CharField(_("third party"), max_length=200, blank=True)
    third_party_due_at = models.DateTimeField(_("third party answers by"), null=True, blank=True)
    third_party_answer = models.TextField(_("third party's answer"), blank=True)
    third_party_answered_at = models.DateTimeField(_("third party answered"), null=True, blank=True)

    tier = models.PositiveSmallIntegerField(_("escalation tier"), choices=EscalationTier.choices, default=0)
    tier_due_at = models.DateTimeField(_("tier answers by"), null=True, blank=True)

    root_cause = models.TextField(_("root cause"), blank=True)
    corrective_action = models.TextField(_("corrective action"), blank=True)
    closed_out_at = models.DateTimeField(_("closed out"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        constraints = [
            models.CheckConstraint(condition=Q(severity__in=ComplaintSeverity.values), name="complaint_severity_valid"),
            models.CheckConstraint(condition=Q(category__in=ComplaintCategory.values), name="complaint_category_valid"),
            models.CheckConstraint(
                condition=Q(responsible_party="") | Q(responsible_party__in=ResponsibleParty.values),
                name="complaint_party_valid",
            ),
            models.CheckConstraint(condition=Q(tier__lte=EscalationTier.MANAGER), name="complaint_tier_valid"),
            models.CheckConstraint(
                condition=Q(closed_out_at__isnull=True) | (~Q(root_cause="") & ~Q(corrective_action="")),
                name="complaint_closed_with_root_cause",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "created_at"], name="complaint_merchant_created")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.severity}"

    @property
    def is_third_party_responsible(self) -> bool:
        return self.responsible_party in THIRD_PARTIES


class ComplaintEscalation(MerchantOwnedModel):
    """A move up a tier, by staff or on the customer's request (once per tier)."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("complaint")
    )
    from_tier = models.PositiveSmallIntegerField(_("from tier"), choices=EscalationTier.choices)
    to_tier = models.PositiveSmallIntegerField(_("to tier"), choices=EscalationTier.choices)
    by_customer = models.BooleanField(_("asked by the customer"), default=False)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalated by"),
    )
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("complaint escalation")
        verbose_name_plural = _("complaint escalations")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "from_tier"],
                condition=Q(by_customer=True),
                name="complaintescalation_customer_once_per_tier",
            ),
            models.CheckConstraint(condition=Q(to_tier__gt=models.F("from_tier")), name="complaintescalation_up"),
        ]

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.from_tier} → {self.to_tier}"


class CompensationKind(models.TextChoices):
    STORE_CREDIT = "store_credit", _("Store credit")
    SHIPPING_REFUND = "shipping_refund", _("Refund of shipping")
    PARTIAL_REFUND = "partial_refund", _("Partial refund")
    COUPON = "coupon", _("Coupon code")


class CompensationStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
    OFFERED = "offered", _("Offered to the customer")
    ACCEPTED = "accepted", _("Accepted by the customer")
    DECLINED = "declined", _("Declined by the customer")
    GRANTED = "granted", _("Granted, payment under way")
    PAYMENT_FAILED = "payment_failed", _("Payment failed")
    PAID = "paid", _("Paid")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Paying: a payer whose ledger pays at once (a coupon, store credit) makes an accepted offer paid;
# one that pays through a gateway (a refund) makes it granted, and the ledger reports the payment's
# outcome: paid, or failed (with the reason; paid again under the same key, back to granted). A
# refund voided before its money left withdraws the offer.
C = CompensationStatus
COMPENSATION_TRANSITIONS: dict[str, frozenset[str]] = {
    C.AWAITING_APPROVAL: frozenset({C.OFFERED, C.WITHDRAWN}),
    C.OFFERED: frozenset({C.ACCEPTED, C.DECLINED, C.WITHDRAWN}),
    C.ACCEPTED: frozenset({C.GRANTED, C.PAID}),
    C.GRANTED: frozenset({C.PAID, C.PAYMENT_FAILED, C.WITHDRAWN}),
    C.PAYMENT_FAILED: frozenset({C.GRANTED, C.PAID, C.WITHDRAWN}),
    C.DECLINED: frozenset(),
    C.PAID: frozenset(),
    C.WITHDRAWN: frozenset(),
}
# Granted by the merchant but not known to have reached the customer: what reports count as
# pending, apart from what is paid.
COMPENSATION_PAYMENT_PENDING = (C.GRANTED, C.PAYMENT_FAILED)
del C

PAYMENT_ERROR_LIMIT = 500


class Compensation(MerchantOwnedModel):
    """An offer of money or value to a complaining customer: proposed by staff, approved by a role
    whose limit covers it, accepted by the customer, then paid once through a registered payer
    (``tickets.compensation_payers``): the payment's idempotency key is the offer itself."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="compensations", verbose_name=_("complaint")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CompensationKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=20, choices=CompensationStatus.choices)
    note = models.TextField(_("note"), blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    answered_at = models.DateTimeField(_("customer answered"), null=True, blank=True)
    granted_at = models.DateTimeField(_("granted"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    # The payment's key in the ledger, set when it is granted (a refund's grant and payment key).
    payment_reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    # Why the last payment attempt failed, in the gateway's words (bounded); empty otherwise.
    payment_error = models.CharField(_("payment error"), max_length=PAYMENT_ERROR_LIMIT, blank=True)

    class Meta:
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="compensation_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=CompensationStatus.values), name="compensation_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=CompensationStatus.PAID) | (Q(paid_at__isnull=False) & ~Q(payment_reference="")),
                name="compensation_paid_has_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=COMPENSATION_PAYMENT_PENDING)
                | (Q(granted_at__isnull=False) & ~Q(payment_reference="")),
                name="compensation_granted_has_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status=CompensationStatus.PAYMENT_FAILED) | ~Q(payment_error=""),
                name="compensation_failed_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.currency}"

    def can_transition_to(self, status: str) -> bool:
        return status in COMPENSATION_TRANSITIONS[self.status]


class CompensationCoupon(MerchantOwnedModel):
    """A coupon code issued as compensation by the hub's own payer."""

    compensation = models.OneToOneField(
        Compensation, on_delete=models.PROTECT, related_name="coupon", verbose_name=_("compensation")
    )
    code = models.CharField(_("code"), max_length=32)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("compensation coupon")
        verbose_name_plural = _("compensation coupons")
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="compensationcoupon_unique_code")]

    def __str__(self) -> str:
        return self.code


class RegulatorChannel(models.TextChoices):
    CONSUMER_HOTLINE = "12315", _("12315 platform")
    CONSUMER_ASSOCIATION = "consumer_association", _("Consumer association")
    PLATFORM_ARBITRATION = "platform_arbitration", _("Platform arbitration")


class RegulatorCase(MerchantOwnedModel):
    """A complaint as a regulator or platform has it, with the statutory clocks: the regulator
    decides acceptance within 7 working days of receipt, mediation ends within 45 days of
    acceptance, and the merchant answers by the date the regulator set."""

    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, related_name="regulator_cases", verbose_name=_("complaint")
    )
    channel = models.CharField(_("channel"), max_length=30, choices=RegulatorChannel.choices)
    reference = models.CharField(_("reference"), max_length=100)
    received_on = models.DateField(_("received by the regulator"))
    acceptance_due_at = models.DateTimeField(_("acceptance decided by"))
    accepted_on = models.DateField(_("accepted"), null=True, blank=True)
    mediation_due_at = models.DateTimeField(_("mediation ends by"), null=True, blank=True)
    answer_due_at = models.DateTimeField(_("our answer due"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("regulator case")
        verbose_name_plural = _("regulator cases")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "channel", "reference"], name="regulatorcase_unique_reference"),
            models.CheckConstraint(
                condition=Q(channel__in=RegulatorChannel.values), name="regulatorcase_channel_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.reference}"


class ComplaintVerb(models.TextChoices):
    """The complaint's events on the ticket's timeline, read as "<who> <label>"."""

    CLASSIFIED = "complaint_classified", _("classified the complaint")
    RESPONSIBILITY = "complaint_responsibility", _("determined who is responsible")
    THIRD_PARTY_ANSWERED = "complaint_third_party_answered", _("recorded the third party's answer")
    THIRD_PARTY_OVERDUE = "complaint_third_party_overdue", _("noted that the third party did not answer in time")
    ESCALATED = "complaint_escalated", _("escalated the complaint")
    TIER_OVERDUE = "complaint_tier_overdue", _("noted that the tier's answer time ran out")
    COMPENSATION_PROPOSED = "compensation_proposed", _("proposed a compensation")
    COMPENSATION_APPROVED = "compensation_approved", _("approved a compensation")
    COMPENSATION_ANSWERED = "compensation_answered", _("answered the compensation offer")
    COMPENSATION_GRANTED = "compensation_granted", _("granted a compensation; its payment is under way")
    COMPENSATION_PAID = "compensation_paid", _("paid a compensation")
    COMPENSATION_PAYMENT_FAILED = "compensation_payment_failed", _("noted that a compensation's payment failed")
    COMPENSATION_PAYMENT_RETRIED = "compensation_payment_retried", _("tried a compensation's payment again")
    COMPENSATION_WITHDRAWN = "compensation_withdrawn", _("withdrew a compensation")
    REGULATOR_RECORDED = "regulator_case_recorded", _("recorded a regulator complaint")
    REGULATOR_ACCEPTED = "regulator_case_accepted", _("recorded the regulator's acceptance")
    REGULATOR_ANSWERED = "regulator_case_answered", _("recorded the answer to the regulator")
    REGULATOR_DEADLINE = "regulator_deadline_due", _("noted that a regulator deadline was reached")
    CLOSED_OUT = "complaint_closed_out", _("recorded the root cause and corrective action")
