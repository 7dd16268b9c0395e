"""The back office's view of feedback. Settings and rules are edited here; surveys, follow-ups and
recovery cases are read-only here, since each of their changes is a service call that appends
its event (the dashboard's pages make them)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from feedback.models import FollowUp, FollowUpCall, FollowUpRule, RecoveryCase, Survey, SurveySettings


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
