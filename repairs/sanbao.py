"""三包 (the PRC's repair, exchange and return guarantee), as a legal floor, pure.

For a category the merchant marks, counted in the merchant's time zone from the day after delivery
(the day after delivery is day 1, as the 7-day return floor counts):

- a performance fault by day 7: the customer may choose return, exchange or repair;
- by day 15: exchange or repair;
- within the warranty period: free repair;
- when two repairs of the same fault have failed within the warranty period: exchange or return,
  at the customer's choice.

The rule in force is snapshotted on the repair; staff cannot take a choice the floor gives the
customer away from them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils.translation import gettext_lazy as _

from repairs.models import Remedy

RETURN_DAYS = 7
EXCHANGE_DAYS = 15
FAILED_REPAIRS_FOR_EXCHANGE = 2


class SanbaoRule(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", _("三包 does not apply")
    RETURN_PERIOD = "return_7_days", _("三包: within 7 days, return, exchange or repair")
    EXCHANGE_PERIOD = "exchange_15_days", _("三包: within 15 days, exchange or repair")
    REPEAT_FAILURE = "repeat_failure", _("三包: two repairs of the same fault failed, exchange or return")
    FREE_REPAIR = "free_repair", _("三包: within the warranty period, free repair")
    EXPIRED = "expired", _("三包: the warranty period is over")


@dataclass(frozen=True)
class SanbaoFloor:
    rule: str
    remedies: tuple[str, ...]
    free_repair: bool
    day: int | None

    @property
    def applies(self) -> bool:
        return self.rule not in (SanbaoRule.NOT_APPLICABLE, SanbaoRule.EXPIRED)

    def allows(self, remedy: str) -> bool:
        return remedy in self.remedies

    @property
    def label(self) -> str:
        """The rule in words; it names the remedies it allows."""
        return str(SanbaoRule(self.rule).label)

    def snapshot(self) -> dict[str, Any]:
        return {"rule": self.rule, "remedies": list(self.remedies), "free_repair": self.free_repair, "day": self.day}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> "SanbaoFloor":
        if not data:
            return NOT_APPLICABLE
        return cls(
            rule=data["rule"], remedies=tuple(data["remedies"]), free_repair=data["free_repair"], day=data.get("day")
        )


NOT_APPLICABLE = SanbaoFloor(rule=SanbaoRule.NOT_APPLICABLE, remedies=(), free_repair=False, day=None)


def days_after(delivered_at: datetime, at: datetime, zone: ZoneInfo) -> int:
    """Whole days after delivery in the merchant's time zone: the day after delivery is day 1."""
    return (at.astimezone(zone).date() - delivered_at.astimezone(zone).date()).days


def sanbao_floor(
    *,
    category_marked: bool,
    delivered_at: datetime | None,
    at: datetime,
    zone: ZoneInfo,
    in_warranty: bool,
    failed_repairs_of_fault: int = 0,
) -> SanbaoFloor:
    """What the floor gives the customer for a performance fault reported at ``at``."""
    if not category_marked or delivered_at is None:
        return NOT_APPLICABLE
    day = days_after(delivered_at, at, zone)
    if day <= RETURN_DAYS:
        return SanbaoFloor(
            rule=SanbaoRule.RETURN_PERIOD,
            remedies=(Remedy.RETURN, Remedy.EXCHANGE, Remedy.REPAIR),
            free_repair=True,
            day=day,
        )
    if day <= EXCHANGE_DAYS:
        return SanbaoFloor(
            rule=SanbaoRule.EXCHANGE_PERIOD, remedies=(Remedy.EXCHANGE, Remedy.REPAIR), free_repair=True, day=day
        )
    if not in_warranty:
        return SanbaoFloor(rule=SanbaoRule.EXPIRED, remedies=(), free_repair=False, day=day)
    if failed_repairs_of_fault >= FAILED_REPAIRS_FOR_EXCHANGE:
        return SanbaoFloor(
            rule=SanbaoRule.REPEAT_FAILURE, remedies=(Remedy.EXCHANGE, Remedy.RETURN), free_repair=True, day=day
        )
    return SanbaoFloor(rule=SanbaoRule.FREE_REPAIR, remedies=(Remedy.REPAIR,), free_repair=True, day=day)
