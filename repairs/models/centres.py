"""Where repairs happen and the merchant's repair rules: service centres and the repair policy."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel


class ServiceAddressFields(models.Model):
    """An address a technician drives to or a customer carries a device to, as text plus the parts
    that areas and routing match on (district, postal code, coordinates)."""

    address = models.TextField(_("address"), blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        abstract = True


class ServiceCentre(MerchantOwnedModel, ServiceAddressFields):
    """A place customers carry devices in to; its opening hours are its own business calendar."""

    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    opening_hours_note = models.CharField(
        _("opening hours, as shown to customers"),
        max_length=300,
        blank=True,
        help_text=_("For example: Mon–Sat 9:00–18:00"),
    )
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_centres",
        verbose_name=_("opening hours calendar"),
    )
    accepts_carry_in = models.BooleanField(_("accepts carry-in"), default=True)
    accepts_mail_in = models.BooleanField(_("receives mailed devices"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service centre")
        verbose_name_plural = _("service centres")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="servicecentre_unique_name"),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (Q(latitude__gte=-90) & Q(latitude__lte=90) & Q(longitude__gte=-180) & Q(longitude__lte=180)),
                name="servicecentre_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class RepairPolicy(MerchantOwnedModel):
    """One per merchant: the rules repairs follow (三包 categories, windows, fees, goodwill limits)."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="repair_policy", verbose_name=_("merchant")
    )
    sanbao_categories = models.JSONField(
        _("三包 categories"),
        default=list,
        blank=True,
        help_text=_("Product categories the 三包 rules apply to (for example appliances, electronics)."),
    )
    revisit_window_days = models.PositiveSmallIntegerField(
        _("repeat-visit window (days)"),
        default=7,
        help_text=_("The same fault on the same serial within this many days is a free repeat repair."),
    )
    inspection_fee = models.DecimalField(
        _("inspection fee"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Charged when a quote is declined and the device goes back unrepaired."),
    )
    quote_validity_days = models.PositiveSmallIntegerField(_("quote valid for (days)"), default=7)
    auto_close_days = models.PositiveSmallIntegerField(
        _("close after (days)"), default=7, help_text=_("A returned repair closes by itself after this many days.")
    )
    goodwill_limit_agent = models.DecimalField(
        _("goodwill limit of an agent"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    goodwill_limit_supervisor = models.DecimalField(
        _("goodwill limit of a supervisor"), max_digits=12, decimal_places=2, default=Decimal("500")
    )
    tax_rate = models.DecimalField(
        _("tax rate on quotes"), max_digits=5, decimal_places=4, default=Decimal("0.1300"), help_text=_("0.13 is 13%.")
    )
    auto_triage = models.BooleanField(
        _("triage covered requests automatically"),
        default=False,
        help_text=_(
            "A new request for a repair that the warranty, 三包 or a free repeat plainly covers is accepted at once, "
            "and the customer may book the technician's visit in the same step; anything else waits for staff."
        ),
    )

    class Meta:
        verbose_name = _("repair policy")
        verbose_name_plural = _("repair policies")
        constraints = [
            models.CheckConstraint(condition=Q(inspection_fee__gte=0), name="repairpolicy_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(goodwill_limit_agent__gte=0) & Q(goodwill_limit_supervisor__gte=0),
                name="repairpolicy_goodwill_not_negative",
            ),
            models.CheckConstraint(condition=Q(tax_rate__gte=0) & Q(tax_rate__lt=1), name="repairpolicy_tax_valid"),
            models.CheckConstraint(condition=Q(quote_validity_days__gt=0), name="repairpolicy_quote_validity_positive"),
        ]

    def __str__(self) -> str:
        return str(_("Repair policy of %(merchant)s") % {"merchant": self.merchant})
