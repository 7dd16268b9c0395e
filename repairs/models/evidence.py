"""What a technician shows of a visit: photos taken before and after the work. The files are the
case's attachments (checked and scrubbed by the hub's upload path); a row here says which visit
and which side of the work each one shows."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from aftersales.models import MerchantOwnedModel

from .dispatch import Visit


class PhotoPhase(models.TextChoices):
    BEFORE = "before", _("Before the work")
    AFTER = "after", _("After the work")


class VisitPhoto(MerchantOwnedModel):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos", verbose_name=_("visit"))
    attachment = models.OneToOneField(
        "tickets.Attachment", on_delete=models.CASCADE, related_name="visit_photo", verbose_name=_("photo")
    )
    phase = models.CharField(_("taken"), max_length=10, choices=PhotoPhase.choices)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["visit_id", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(phase__in=PhotoPhase.values), name="visitphoto_phase_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} {self.phase}"
