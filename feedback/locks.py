"""The querysets that lock feedback's rows. The order, the same in every service: the ticket
(when the hub's locked it already, it is ours), then a survey, a follow-up or a recovery case. A
quality run locks its merchant's settings row first, so two runs of one merchant (beat and a
retried task) take turns; an alert's decisions lock the alert."""

from feedback.models import FollowUp, QualityAlert, QualitySettings, RecoveryCase, Survey


def quality_settings_lock(merchant_id: int) -> QualitySettings:
    return QualitySettings.objects.select_for_update(of=("self",)).get(merchant_id=merchant_id)


def quality_alert_lock(alert_id: int) -> QualityAlert:
    return QualityAlert.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=alert_id)


def survey_lock(survey_id: int) -> Survey:
    return (
        Survey.objects.select_for_update(of=("self",))
        .select_related("ticket", "customer", "merchant", "ticket__merchant", "ticket__customer")
        .get(pk=survey_id)
    )


def followup_lock(followup_id: int) -> FollowUp:
    return (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("ticket", "rule", "customer", "merchant")
        .get(pk=followup_id)
    )


def recovery_lock(recovery_id: int) -> RecoveryCase:
    return (
        RecoveryCase.objects.select_for_update(of=("self",))
        .select_related("original_ticket", "recovery_ticket", "merchant")
        .get(pk=recovery_id)
    )
