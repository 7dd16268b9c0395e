from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from aftersales.config_cache import ConfigModel

from .base import MerchantOwnedModel, TimeStampedModel


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


def minute_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class BusinessCalendar(ConfigModel, MerchantOwnedModel):
    """When a merchant's (or a team's) staff work: SLA targets count only these minutes.

    Configuration (``aftersales.config_cache``), with its hours and days: a change of any of them
    bumps the merchant's configuration version, so the calendars kept for slot availability
    (``repairs.selectors.dispatch.calendar_specs``) are read again."""

    merchant = models.ForeignKey(
        "aftersales.Merchant", on_delete=models.CASCADE, related_name="calendars", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    team = models.ForeignKey(
        "tickets.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendars",
        help_text=_("Leave empty for the merchant's default calendar."),
        verbose_name=_("team"),
    )
    # A service centre's opening hours or a technician's working time: a calendar of its own that
    # is neither the merchant's default nor a team's (SLA clocks never pick it).
    is_resource = models.BooleanField(
        _("for a place or a person"),
        default=False,
        help_text=_("The opening hours of a service centre or the working time of a technician."),
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["merchant_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="calendar_unique_name"),
            models.UniqueConstraint(
                fields=["merchant"],
                condition=Q(team__isnull=True, is_resource=False),
                name="calendar_one_default_per_merchant",
            ),
            models.UniqueConstraint(fields=["team"], condition=Q(team__isnull=False), name="calendar_one_per_team"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingHours(ConfigModel, TimeStampedModel):
    """One working range of a weekday, in minutes from local midnight; a day may have several."""

    CONFIG_MERCHANT_FIELD = "calendar__merchant_id"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="working_hours", verbose_name=_("business calendar")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField(_("from (minute of day)"))
    end_minute = models.PositiveSmallIntegerField(_("until (minute of day)"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["calendar_id", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_minute__lt=F("end_minute")) & Q(end_minute__lte=1440),
                name="workinghours_range_valid",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="workinghours_weekday_valid"),
        ]

    def config_merchant_id(self) -> int:
        return self.calendar.merchant_id

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {minute_label(self.start_minute)}–{minute_label(self.end_minute)}"


class CalendarDay(ConfigModel, TimeStampedModel):
    """A date that breaks the weekly pattern: a holiday, or a make-up working day (调休)."""

    CONFIG_MERCHANT_FIELD = "calendar__merchant_id"

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKING_DAY = "working_day", _("Extra working day")

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days", verbose_name=_("business calendar")
    )
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    works_as = models.PositiveSmallIntegerField(
        _("works as"),
        choices=Weekday.choices,
        default=Weekday.MONDAY,
        help_text=_("An extra working day keeps the hours of this weekday."),
    )

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar_id", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="calendarday_unique_date")]

    def config_merchant_id(self) -> int:
        return self.calendar.merchant_id

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()
