"""Spare parts: a catalogue per merchant and stock per location, never negative."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .orders import RepairOrder


class Part(MerchantOwnedModel):
    part_number = models.CharField(_("part number"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=Decimal("0"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=Decimal("0"))
    compatible_products = models.ManyToManyField(
        "aftersales.Product", blank=True, related_name="compatible_parts", verbose_name=_("compatible products")
    )
    component = models.CharField(
        _("component"), max_length=100, blank=True, help_text=_("The named component it is, for component warranties.")
    )
    is_serialized = models.BooleanField(_("serialized"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("part")
        verbose_name_plural = _("parts")
        ordering = ["merchant_id", "part_number"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "part_number"], name="part_unique_number"),
            models.CheckConstraint(condition=Q(cost__gte=0) & Q(price__gte=0), name="part_amounts_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.part_number} {self.name}"


class LocationKind(models.TextChoices):
    WAREHOUSE = "warehouse", _("Warehouse")
    SERVICE_CENTRE = "service_centre", _("Service centre")
    VAN = "van", _("Technician's van")


class StockLocation(MerchantOwnedModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=LocationKind.choices)
    service_centre = models.ForeignKey(
        "repairs.ServiceCentre",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_locations",
        verbose_name=_("service centre"),
    )
    # A van is driven by a staff member (a technician's membership); dispatch owns their profile.
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stock_locations",
        verbose_name=_("held by"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stock location")
        verbose_name_plural = _("stock locations")
        ordering = ["merchant_id", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="stocklocation_unique_name"),
            models.CheckConstraint(
                condition=~Q(kind=LocationKind.SERVICE_CENTRE) | Q(service_centre__isnull=False),
                name="stocklocation_centre_has_centre",
            ),
            models.CheckConstraint(
                condition=~Q(kind=LocationKind.VAN) | Q(holder__isnull=False), name="stocklocation_van_has_holder"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartStock(MerchantOwnedModel):
    """How many of a part a location holds and how many of those are promised to repairs."""

    location = models.ForeignKey(
        StockLocation, on_delete=models.CASCADE, related_name="stock", verbose_name=_("location")
    )
    part = models.ForeignKey(Part, on_delete=models.CASCADE, related_name="stock", verbose_name=_("part"))
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)

    class Meta:
        verbose_name = _("part stock")
        verbose_name_plural = _("part stock")
        ordering = ["location_id", "part_id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "part"], name="partstock_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="partstock_on_hand_not_negative"),
            models.CheckConstraint(
                condition=Q(reserved__gte=0) & Q(reserved__lte=F("on_hand")), name="partstock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.part} @ {self.location}: {self.on_hand}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class ReservationState(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    CONSUMED = "consumed", _("Used")
    RELEASED = "released", _("Returned to stock")


class PartReservation(MerchantOwnedModel):
    """Parts planned for a repair: reserved, then used (consumed) or put back (released)."""

    repair_order = models.ForeignKey(
        RepairOrder, on_delete=models.CASCADE, related_name="part_reservations", verbose_name=_("repair order")
    )
    stock = models.ForeignKey(PartStock, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("stock"))
    quantity = models.PositiveIntegerField(_("quantity"))
    state = models.CharField(
        _("state"), max_length=20, choices=ReservationState.choices, default=ReservationState.RESERVED
    )
    serial_numbers = models.JSONField(_("serial numbers"), default=list, blank=True)
    consumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("used by"),
    )

    class Meta:
        verbose_name = _("part reservation")
        verbose_name_plural = _("part reservations")
        ordering = ["repair_order_id", "id"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="partreservation_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.stock.part}"
