"""Dispatch: technicians (skills, home base, areas, working calendar, capacity, time off) and the
visits of on-site repairs (booked window, planned and actual times, pins, no-shows)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.config_cache import ConfigModel
from aftersales.models import MerchantOwnedModel, TimeStampedModel


class TechnicianProfile(MerchantOwnedModel):
    """A staff user with the technician role, as dispatch sees them.

    ``skills`` maps a skill — a product category (``taps``), a certification (``cert:gas``) — to
    the level held (1 basic … 3 expert); a repair needs the category of its product at level 1
    unless it asks for more. ``areas`` lists the postal codes and districts served; empty means
    the whole city. The working calendar is a kernel business calendar (a resource calendar of
    its own, or the merchant's default when empty)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician_profiles", verbose_name=_("user")
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    skills = models.JSONField(_("skills and levels"), default=dict, blank=True)
    areas = models.JSONField(_("service areas (postal codes, districts)"), default=list, blank=True)
    home_latitude = models.DecimalField(_("home base latitude"), max_digits=9, decimal_places=6)
    home_longitude = models.DecimalField(_("home base longitude"), max_digits=9, decimal_places=6)
    calendar = models.ForeignKey(
        "aftersales.BusinessCalendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="technicians",
        verbose_name=_("working calendar"),
    )
    daily_capacity = models.PositiveSmallIntegerField(_("visits a day at most"), default=8)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")
        ordering = ["merchant_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "user"], name="technicianprofile_unique_user"),
            models.CheckConstraint(
                condition=Q(home_latitude__gte=-90)
                & Q(home_latitude__lte=90)
                & Q(home_longitude__gte=-180)
                & Q(home_longitude__lte=180),
                name="technicianprofile_home_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class TechnicianTimeOff(TimeStampedModel):
    """Days a technician does not work (leave, training, sick), both ends included."""

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("technician")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        ordering = ["technician_id", "starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="techniciantimeoff_range_valid")
        ]
        indexes = [models.Index(fields=["technician", "ends_on"], name="timeoff_by_end")]

    def __str__(self) -> str:
        return f"{self.technician} {self.starts_on}–{self.ends_on}"


class VisitStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ON_THE_WAY = "on_the_way", _("On the way")
    ON_SITE = "on_site", _("On site")
    COMPLETED = "completed", pgettext_lazy("visit status", "Completed")
    CANCELLED = "cancelled", pgettext_lazy("visit status", "Cancelled")
    CUSTOMER_NO_SHOW = "customer_no_show", _("Customer not there")
    TECHNICIAN_NO_SHOW = "technician_no_show", _("Technician did not come")


V = VisitStatus
VISIT_TRANSITIONS: dict[str, frozenset[str]] = {
    V.BOOKED: frozenset({V.ON_THE_WAY, V.ON_SITE, V.CANCELLED, V.CUSTOMER_NO_SHOW, V.TECHNICIAN_NO_SHOW}),
    V.ON_THE_WAY: frozenset({V.ON_SITE, V.CANCELLED, V.CUSTOMER_NO_SHOW}),
    V.ON_SITE: frozenset({V.COMPLETED}),
    V.COMPLETED: frozenset(),
    V.CANCELLED: frozenset(),
    V.CUSTOMER_NO_SHOW: frozenset(),
    V.TECHNICIAN_NO_SHOW: frozenset(),
}
# A visit that still holds its slot and the technician's time.
ACTIVE_VISIT_STATUSES = (V.BOOKED, V.ON_THE_WAY, V.ON_SITE)
# The planner may still move these (nobody has set off yet).
PLANNABLE_VISIT_STATUSES = (V.BOOKED,)
del V


class VisitParty(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    MERCHANT = "merchant", _("Merchant")


class Visit(MerchantOwnedModel):
    """One on-site visit of a repair: the window the customer booked, the technician and times the
    plan gives it, and what actually happened. Booking a window takes a technician's place in it
    (the slot hold); the evening plan may hand it to another qualified technician, never outside
    the window; a pinned visit keeps its technician and planned start."""

    repair = models.ForeignKey(
        "repairs.RepairOrder", on_delete=models.CASCADE, related_name="visits", verbose_name=_("repair")
    )
    technician = models.ForeignKey(
        TechnicianProfile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("technician"),
    )
    status = models.CharField(_("status"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.BOOKED)
    window_start = models.DateTimeField(_("booked from"))
    window_end = models.DateTimeField(_("booked until"))
    service_minutes = models.PositiveSmallIntegerField(_("expected length (minutes)"), default=60)
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    sequence = models.PositiveSmallIntegerField(_("place in the day"), null=True, blank=True)
    pinned = models.BooleanField(
        _("pinned"), default=False, help_text=_("The planner keeps this visit's technician and start.")
    )
    on_the_way_at = models.DateTimeField(_("set off"), null=True, blank=True)
    expected_arrival = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    cancelled_by = models.CharField(_("cancelled by"), max_length=20, choices=VisitParty.choices, blank=True)
    cancel_reason = models.CharField(_("why it was cancelled"), max_length=300, blank=True)
    reschedules = models.PositiveSmallIntegerField(_("times the customer moved it"), default=0)
    rescheduled_from = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rescheduled_to",
        verbose_name=_("moved from"),
    )
    confirmation_code = models.CharField(_("confirmation code"), max_length=12, blank=True)
    signature = models.ImageField(_("customer's signature"), upload_to="repairs/signatures/%Y/%m/", blank=True)
    work_note = models.TextField(_("work done"), blank=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["window_start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=VisitStatus.values), name="visit_status_valid"),
            models.CheckConstraint(condition=Q(window_start__lt=F("window_end")), name="visit_window_valid"),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | (Q(planned_end__isnull=False) & Q(planned_start__lt=F("planned_end"))),
                name="visit_plan_valid",
            ),
            models.CheckConstraint(
                condition=~Q(pinned=True) | (Q(technician__isnull=False) & Q(planned_start__isnull=False)),
                name="visit_pin_has_technician_and_start",
            ),
            # One visit at a time per repair holds a place in someone's day.
            models.UniqueConstraint(
                fields=["repair"],
                condition=Q(status__in=ACTIVE_VISIT_STATUSES),
                name="visit_one_active_per_repair",
            ),
        ]
        indexes = [
            models.Index(
                fields=["technician", "window_start"],
                condition=Q(status__in=ACTIVE_VISIT_STATUSES),
                name="visit_active_by_technician",
            ),
            models.Index(
                fields=["merchant", "window_start"],
                condition=Q(status__in=ACTIVE_VISIT_STATUSES),
                name="visit_active_by_window",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.repair_id} {self.window_start:%Y-%m-%d %H:%M}"


class DispatchPolicy(ConfigModel, MerchantOwnedModel):
    """One per merchant: the rules of booking, moving and cancelling visits. Configuration
    (``aftersales.config_cache``): slot availability keeps it per process until it changes."""

    merchant = models.OneToOneField(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="dispatch_policy", verbose_name=_("merchant")
    )
    booking_lead_hours = models.PositiveSmallIntegerField(
        _("earliest booking (hours ahead)"),
        default=4,
        help_text=_("A window must start at least this long after it is booked."),
    )
    visits_per_window = models.PositiveSmallIntegerField(
        _("visits per technician per window"),
        default=2,
        help_text=_("How many visits one technician may hold in one two-hour window."),
    )
    customer_change_cutoff_hours = models.PositiveSmallIntegerField(
        _("customers may change until (hours before)"),
        default=12,
        help_text=_("Customers may reschedule or cancel a visit until this many hours before its window."),
    )
    customer_reschedules = models.PositiveSmallIntegerField(_("reschedules a customer may make"), default=2)
    default_visit_minutes = models.PositiveSmallIntegerField(_("length of a visit (minutes)"), default=60)
    travel_speed_kmh = models.PositiveSmallIntegerField(_("average travel speed (km/h)"), default=30)

    class Meta:
        verbose_name = _("dispatch policy")
        verbose_name_plural = _("dispatch policies")
        constraints = [
            models.CheckConstraint(condition=Q(visits_per_window__gt=0), name="dispatchpolicy_window_positive"),
            models.CheckConstraint(condition=Q(travel_speed_kmh__gt=0), name="dispatchpolicy_speed_positive"),
            models.CheckConstraint(condition=Q(default_visit_minutes__gt=0), name="dispatchpolicy_visit_positive"),
        ]

    def __str__(self) -> str:
        return str(_("Dispatch policy of %(merchant)s") % {"merchant": self.merchant})


class TechnicianWindowLoad(MerchantOwnedModel):
    """How many active visits (booked, on the way, on site) a technician holds in one booking
    window: a counter kept by every service that books, moves, reassigns, cancels or ends a
    visit, in the same transaction. Slot availability reads the saturated rows of the horizon
    here (one index range) instead of counting a month of visits on every read."""

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="window_loads", verbose_name=_("technician")
    )
    window_start = models.DateTimeField(_("window from"))
    visits = models.PositiveIntegerField(_("active visits"), default=0)

    class Meta:
        verbose_name = _("technician window load")
        verbose_name_plural = _("technician window loads")
        constraints = [
            models.UniqueConstraint(fields=["technician", "window_start"], name="windowload_unique_window"),
        ]
        # The threshold (visits per window) is the merchant's policy, read at request time: the
        # index leads with the count so only saturated rows are visited.
        indexes = [models.Index(fields=["merchant", "visits", "window_start"], name="windowload_saturated")]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.window_start:%Y-%m-%d %H:%M}: {self.visits}"


class TechnicianDayLoad(MerchantOwnedModel):
    """How many active visits a technician holds on one local day (the merchant's time zone),
    kept beside ``TechnicianWindowLoad`` by the same service calls; checked against the
    technician's daily capacity."""

    technician = models.ForeignKey(
        TechnicianProfile, on_delete=models.CASCADE, related_name="day_loads", verbose_name=_("technician")
    )
    day = models.DateField(_("day"))
    visits = models.PositiveIntegerField(_("active visits"), default=0)

    class Meta:
        verbose_name = _("technician day load")
        verbose_name_plural = _("technician day loads")
        constraints = [models.UniqueConstraint(fields=["technician", "day"], name="dayload_unique_day")]
        indexes = [models.Index(fields=["merchant", "visits", "day"], name="dayload_saturated")]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.day}: {self.visits}"
