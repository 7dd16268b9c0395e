"""A merchant's survey settings and follow-up rules, changed by its supervisors and admins."""

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.exceptions import InvalidInput
from aftersales.models import Merchant, User
from feedback.models import FollowUpRule, FollowUpTrigger, SurveySettings
from feedback.roles import require_supervisor

SETTINGS_FIELDS = (
    "csat_enabled",
    "csat_delay_hours",
    "csat_throttle_days",
    "link_valid_days",
    "reminder_after_hours",
    "ces_enabled",
    "low_score_threshold",
    "complaint_keywords",
    "excluded_tags",
    "recovery_due_hours",
    "nps_enabled",
    "nps_delay_days",
    "nps_throttle_days",
)
RULE_FIELDS = ("name", "trigger", "delay_hours", "min_amount", "script", "max_attempts", "retry_hours", "is_active")


def survey_settings_save(*, merchant: Merchant, actor: User, values: dict[str, Any]) -> SurveySettings:
    """Applies to surveys scheduled from then on; a survey already sent keeps its link's expiry."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValueError(f"unknown survey settings {sorted(unknown)}")
    threshold = values.get("low_score_threshold")
    if threshold is not None and not 1 <= threshold <= 4:
        raise InvalidInput(_("The recovery threshold is a rating from 1 to 4."), extra={"field": "low_score_threshold"})
    if values.get("link_valid_days") == 0:
        raise InvalidInput(_("A survey link is valid for at least a day."), extra={"field": "link_valid_days"})
    with transaction.atomic():
        require_supervisor(actor, merchant.pk)
        survey_settings, _created = SurveySettings.objects.select_for_update().update_or_create(
            merchant=merchant, defaults=values
        )
    return survey_settings


def followup_rule_save(
    *, merchant: Merchant, actor: User, values: dict[str, Any], rule: FollowUpRule | None = None
) -> FollowUpRule:
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown follow-up rule fields {sorted(unknown)}")
    trigger = values.get("trigger", rule.trigger if rule else "")
    if trigger not in FollowUpTrigger.values:
        raise InvalidInput(_("Pick when the follow-up is made."), extra={"field": "trigger"})
    amount = values.get("min_amount", rule.min_amount if rule else None)
    if trigger == FollowUpTrigger.REFUND_OVER and (amount is None or Decimal(amount) < 0):
        raise InvalidInput(_("Give the refund amount the rule starts at."), extra={"field": "min_amount"})
    if not (values.get("name") or (rule.name if rule else "")).strip():
        raise InvalidInput(_("Give the rule a name."), extra={"field": "name"})
    with transaction.atomic():
        require_supervisor(actor, merchant.pk)
        if rule is None:
            rule = FollowUpRule.objects.create(merchant=merchant, **values)
        else:
            rule = FollowUpRule.objects.select_for_update().get(pk=rule.pk, merchant=merchant)
            for field, value in values.items():
                setattr(rule, field, value)
            rule.save(update_fields=[*values, "updated_at"])
    return rule
