"""The querysets that lock feedback's rows. A quality run locks its merchant's settings row
first, so two runs of one merchant (beat and a retried task) take turns; an alert's decisions
lock the alert."""

from feedback.models import QualityAlert, QualitySettings


def quality_settings_lock(merchant_id: int) -> QualitySettings:
    return QualitySettings.objects.select_for_update(of=("self",)).get(merchant_id=merchant_id)


def quality_alert_lock(alert_id: int) -> QualityAlert:
    return QualityAlert.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=alert_id)
