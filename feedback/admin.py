"""The back office's view of feedback. Settings and rules are edited here; surveys, follow-ups,
recovery cases and quality alerts are read-only here, since each of their changes is a service call
that appends its event (the dashboard's pages and the API make them)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from feedback.models import (
    FollowUp,
    FollowUpCall,
    FollowUpRule,
    QualityAlert,
    QualityAlertEvent,
    QualityCohort,
    QualitySettings,
    RecoveryCase,
    RepairDailyRollup,
    ReturnDailyRollup,
    RollupRefresh,
    Survey,
    SurveyDailyRollup,
    SurveySettings,
    TicketDailyRollup,
)


@admin.register(QualitySettings)
class QualitySettingsAdmin(admin.ModelAdmin):
    list_display = ["merchant", "owner", "claim_window_days"]
    raw_id_fields = ["owner"]


class QualityAlertEventInline(admin.TabularInline):
    model = QualityAlertEvent
    extra = 0
    can_delete = False
    readonly_fields = ["created_at", "verb", "actor", "note"]
    fields = ["created_at", "verb", "actor", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(QualityAlert)
class QualityAlertAdmin(admin.ModelAdmin):
    # Decisions are service calls (the dashboard and the API); the admin shows what was decided.
    list_display = ["sku", "merchant", "detected_on", "method", "status", "rate", "baseline_rate"]
    list_filter = ["status", "method"]
    search_fields = ["sku"]
    readonly_fields = [field.name for field in QualityAlert._meta.fields]
    inlines = [QualityAlertEventInline]

    def has_add_permission(self, request):
        return False


@admin.register(QualityCohort)
class QualityCohortAdmin(admin.ModelAdmin):
    list_display = ["product", "merchant", "delivered_on", "delivered_units", "defect_units"]
    list_filter = ["delivered_on"]
    raw_id_fields = ["product"]


@admin.register(TicketDailyRollup)
class TicketDailyRollupAdmin(admin.ModelAdmin):
    list_display = ["merchant", "day", "kind", "store", "team", "agent", "created", "resolved"]
    list_filter = ["day", "kind"]
    raw_id_fields = ["store", "team", "agent"]


@admin.register(ReturnDailyRollup)
class ReturnDailyRollupAdmin(admin.ModelAdmin):
    list_display = ["merchant", "day", "store", "product", "reason", "delivered_units", "returned_units"]
    list_filter = ["day"]
    raw_id_fields = ["store", "product", "reason"]


@admin.register(SurveyDailyRollup)
class SurveyDailyRollupAdmin(admin.ModelAdmin):
    list_display = ["merchant", "day", "kind", "technician", "agent", "csat_sent", "csat_answered", "nps_answered"]
    list_filter = ["day", "kind"]
    raw_id_fields = ["store", "team", "agent", "technician"]


@admin.register(RepairDailyRollup)
class RepairDailyRollupAdmin(admin.ModelAdmin):
    list_display = ["merchant", "day", "store", "technician", "repairs_returned", "first_time_fixed", "arrivals"]
    list_filter = ["day"]
    raw_id_fields = ["store", "technician"]


@admin.register(RollupRefresh)
class RollupRefreshAdmin(admin.ModelAdmin):
    list_display = ["merchant", "refreshed_at"]


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = ["merchant", "csat_enabled", "csat_delay_hours", "low_score_threshold", "nps_enabled"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug"]
    autocomplete_fields = ["merchant"]


@admin.register(FollowUpRule)
class FollowUpRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "trigger", "delay_hours", "min_amount", "max_attempts", "is_active"]
    list_filter = ["trigger", "is_active"]
    list_select_related = ["merchant"]
    search_fields = ["name", "merchant__name"]
    autocomplete_fields = ["merchant"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "kind", "status", "score", "agent", "technician", "sent_at", "answered_at", "merchant"]
    list_filter = ["kind", "status"]
    list_select_related = ["ticket", "agent", "technician", "merchant"]
    search_fields = ["ticket__number", "customer__email", "customer__phone"]
    exclude = ["nonce"]


class FollowUpCallInline(admin.TabularInline):
    model = FollowUpCall
    extra = 0
    can_delete = False
    readonly_fields = ("caller", "result", "note", "created_at")
    fields = ("caller", "result", "note", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "rule", "status", "due_at", "attempts", "outcome", "merchant"]
    list_filter = ["status", "outcome"]
    list_select_related = ["ticket", "rule", "merchant"]
    search_fields = ["ticket__number", "customer__phone"]
    inlines = [FollowUpCallInline]


@admin.register(FollowUpCall)
class FollowUpCallAdmin(ReadOnlyAdmin):
    list_display = ["followup", "caller", "result", "created_at", "merchant"]
    list_filter = ["result"]
    list_select_related = ["followup", "caller", "merchant"]


@admin.register(RecoveryCase)
class RecoveryCaseAdmin(ReadOnlyAdmin):
    list_display = ["recovery_ticket", "original_ticket", "trigger", "status", "supervisor", "due_at", "merchant"]
    list_filter = ["trigger", "status"]
    list_select_related = ["recovery_ticket", "original_ticket", "supervisor", "merchant"]
    search_fields = ["recovery_ticket__number", "original_ticket__number"]
