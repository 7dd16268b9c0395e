from django.contrib import admin

from feedback.models import (
    QualityAlert,
    QualityAlertEvent,
    QualityCohort,
    QualitySettings,
    ReturnDailyRollup,
    RollupRefresh,
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


@admin.register(RollupRefresh)
class RollupRefreshAdmin(admin.ModelAdmin):
    list_display = ["merchant", "refreshed_at"]
