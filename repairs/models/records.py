"""What happened to the things managers keep: each stock movement (received, transferred,
counted) and each change to a technician's profile or a part of the catalogue, with who did it.
Nothing here is rewritten; stock's history is read from these rows as a case's is from its events."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .dispatch import TechnicianProfile
from .parts import Part, PartStock, StockLocation


class MovementKind(models.TextChoices):
    RECEIVED = "received", _("Received")
    TRANSFERRED_OUT = "transferred_out", _("Transferred out")
    TRANSFERRED_IN = "transferred_in", _("Transferred in")
    ADJUSTED = "adjusted", _("Counted and adjusted")
    USED = "used", _("Fitted on a repair")


class StockMovement(MerchantOwnedModel):
    stock = models.ForeignKey(PartStock, on_delete=models.CASCADE, related_name="movements", verbose_name=_("stock"))
    kind = models.CharField(_("kind"), max_length=20, choices=MovementKind.choices)
    quantity = models.IntegerField(_("change"))
    on_hand_after = models.IntegerField(_("on hand after"))
    counterpart = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from or to"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["stock_id", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="stockmovement_quantity_not_zero"),
            models.CheckConstraint(condition=Q(on_hand_after__gte=0), name="stockmovement_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=MovementKind.values), name="stockmovement_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.stock_id} {self.kind} {self.quantity:+d}"


class ProfileChange(MerchantOwnedModel):
    """One edit of a technician's profile or of a part: each changed field, before and after."""

    technician = models.ForeignKey(
        TechnicianProfile,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("technician"),
    )
    part = models.ForeignKey(
        Part, on_delete=models.CASCADE, null=True, blank=True, related_name="changes", verbose_name=_("part")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("profile change")
        verbose_name_plural = _("profile changes")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(technician__isnull=False, part__isnull=True)
                | Q(technician__isnull=True, part__isnull=False),
                name="profilechange_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician_id or self.part_id}: {', '.join(self.changes)}"
