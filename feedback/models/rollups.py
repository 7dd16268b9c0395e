"""The KPI rollups: what the dashboard home and the KPI API read, never the ticket table itself.

Refreshed by beat from the event tables, not maintained incrementally in the services'
transactions, for three reasons:

- the figures come from many apps' writes (tickets, SLA clocks, returns, refunds, and later
  repairs and surveys); keeping them in each service would put a rollup write into every hot
  transaction of every app, all contending for the same few "today" rows;
- several figures are only known later (a first-contact resolution is one that was not reopened
  nor followed by a new contact within 7 days), so a day must be recomputed after the fact anyway;
- a recomputation from the source rows is idempotent: a refresh that ran twice, crashed or raced
  another leaves the same rows, and a fix to a definition is one re-run.

``feedback.services.rollups.rollups_refresh`` recomputes whole days per merchant, in one
transaction (delete the days, insert them again from grouped SQL). Beat refreshes today and
yesterday every 10 minutes and the last 35 days nightly (``feedback.tasks``), so the home lags the
desk by at most ten minutes and a late fact (a reopen, a late refund) lands within a day.

Days are the merchant's calendar days; durations are wall-clock minutes, kept as histograms
(``feedback.kpi``) so that medians and 90th percentiles can be read for any period and filter.
Store, team, agent and kind are the ticket's when the day is refreshed.
"""

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from feedback.kpi import BUCKETS

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


def _histogram_field(label: "StrPromise") -> "ArrayField[list[int], list[int]]":
    return ArrayField(models.PositiveIntegerField(), size=BUCKETS, verbose_name=label, default=list, blank=True)


class TicketDailyRollup(models.Model):
    """Cases of one merchant × day × store × team × agent × kind."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    day = models.DateField(_("day"))
    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    team = models.ForeignKey(
        "tickets.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    kind = models.CharField(_("kind"), max_length=20)

    created = models.PositiveIntegerField(_("opened"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    reopened = models.PositiveIntegerField(_("reopened"), default=0)
    first_contact_resolved = models.PositiveIntegerField(_("resolved at first contact"), default=0)
    first_response_minutes = _histogram_field(_("first response (histogram)"))
    resolution_minutes = _histogram_field(_("resolution (histogram)"))
    refund_cycle_minutes = _histogram_field(_("refund cycle (histogram)"))
    sla_first_response_met = models.PositiveIntegerField(_("first response met"), default=0)
    sla_first_response_breached = models.PositiveIntegerField(_("first response breached"), default=0)
    sla_next_response_met = models.PositiveIntegerField(_("next response met"), default=0)
    sla_next_response_breached = models.PositiveIntegerField(_("next response breached"), default=0)
    sla_resolution_met = models.PositiveIntegerField(_("resolution met"), default=0)
    sla_resolution_breached = models.PositiveIntegerField(_("resolution breached"), default=0)

    class Meta:
        verbose_name = _("daily case rollup")
        verbose_name_plural = _("daily case rollups")
        indexes = [models.Index(fields=["merchant", "day"], name="ticketrollup_merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day} {self.kind}"


class ReturnDailyRollup(models.Model):
    """Units delivered (``reason`` empty) and units asked back (per reason) of one merchant × day ×
    store × product: return rate by SKU and by reason."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    day = models.DateField(_("day"))
    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    product = models.ForeignKey(
        "aftersales.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    reason = models.ForeignKey(
        "returns.ReturnReason",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reason"),
    )
    delivered_units = models.PositiveIntegerField(_("units delivered"), default=0)
    returned_units = models.PositiveIntegerField(_("units returned"), default=0)

    class Meta:
        verbose_name = _("daily return rollup")
        verbose_name_plural = _("daily return rollups")
        indexes = [models.Index(fields=["merchant", "day"], name="returnrollup_merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day} {self.product_id}"


class RollupRefresh(models.Model):
    """When each merchant's days were last recomputed (shown on the home: "as of …")."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    refreshed_at = models.DateTimeField(_("refreshed"))

    class Meta:
        verbose_name = _("rollup refresh")
        verbose_name_plural = _("rollup refreshes")

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.refreshed_at}"


def _user_dimension(label: "StrPromise") -> "models.ForeignKey[Any, Any]":
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=label
    )


class SurveyDailyRollup(models.Model):
    """CSAT, NPS and technician ratings of one merchant × day × store × team × agent × technician ×
    kind: surveys sent count on the day they went out, answers on the day first answered. The
    attribution is the survey's (who served the case when it resolved), not the ticket's now."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    day = models.DateField(_("day"))
    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    team = models.ForeignKey(
        "tickets.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("team")
    )
    agent = _user_dimension(_("agent"))
    technician = _user_dimension(_("technician"))
    kind = models.CharField(_("kind"), max_length=20)

    csat_sent = models.PositiveIntegerField(_("CSAT surveys sent"), default=0)
    csat_answered = models.PositiveIntegerField(_("CSAT answers"), default=0)
    csat_score_sum = models.PositiveIntegerField(_("CSAT scores (sum)"), default=0)
    nps_answered = models.PositiveIntegerField(_("NPS answers"), default=0)
    nps_promoters = models.PositiveIntegerField(_("promoters"), default=0)
    nps_detractors = models.PositiveIntegerField(_("detractors"), default=0)
    technician_rated = models.PositiveIntegerField(_("technician ratings"), default=0)
    punctuality_sum = models.PositiveIntegerField(_("punctuality (sum)"), default=0)
    skill_sum = models.PositiveIntegerField(_("skill (sum)"), default=0)
    courtesy_sum = models.PositiveIntegerField(_("courtesy (sum)"), default=0)

    class Meta:
        verbose_name = _("daily survey rollup")
        verbose_name_plural = _("daily survey rollups")
        indexes = [models.Index(fields=["merchant", "day"], name="surveyrollup_merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day} {self.kind}"


class RepairDailyRollup(models.Model):
    """Repairs given back and on-site arrivals of one merchant × day × store × technician.

    A repair counts on the day the device was back with the customer (``returned_at``), with its
    turnaround from the request and the technician of its last completed visit (none at the
    bench); an on-site repair is fixed the first time when one completed visit did it. An arrival
    counts on the day of its window: on time when the technician checked in before the window
    ended; a technician who did not come is late."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="+", verbose_name=_("merchant")
    )
    day = models.DateField(_("day"))
    store = models.ForeignKey(
        "aftersales.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    technician = _user_dimension(_("technician"))

    repairs_returned = models.PositiveIntegerField(_("repairs given back"), default=0)
    turnaround_minutes = _histogram_field(_("turnaround (histogram)"))
    on_site_returned = models.PositiveIntegerField(_("on-site repairs given back"), default=0)
    first_time_fixed = models.PositiveIntegerField(_("fixed at the first visit"), default=0)
    arrivals = models.PositiveIntegerField(_("visits due"), default=0)
    arrivals_on_time = models.PositiveIntegerField(_("arrived on time"), default=0)

    class Meta:
        verbose_name = _("daily repair rollup")
        verbose_name_plural = _("daily repair rollups")
        indexes = [models.Index(fields=["merchant", "day"], name="repairrollup_merchant_day")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.day} {self.technician_id}"
