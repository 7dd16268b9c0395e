from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class MerchantOwnedModel(TimeStampedModel):
    """Every merchant-owned row carries its merchant, so every read can start from it."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )

    class Meta:
        abstract = True
