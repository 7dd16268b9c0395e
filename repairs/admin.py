from django.contrib import admin

from repairs.models import DispatchPolicy, TechnicianProfile, TechnicianTimeOff, Visit


class TechnicianTimeOffInline(admin.TabularInline):
    model = TechnicianTimeOff
    extra = 0


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "merchant", "daily_capacity", "is_active"]
    list_filter = ["merchant", "is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "phone"]
    raw_id_fields = ["user", "calendar"]
    inlines = [TechnicianTimeOffInline]


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["pk", "repair", "technician", "status", "window_start", "planned_start", "pinned"]
    list_filter = ["merchant", "status", "pinned"]
    search_fields = ["repair__ticket__number"]
    raw_id_fields = ["repair", "technician", "rescheduled_from"]
    date_hierarchy = "window_start"
    # A visit moves only through the dispatch services (locked, with its event): read-only here.
    readonly_fields = ["status", "on_the_way_at", "expected_arrival", "checked_in_at", "checked_out_at"]


@admin.register(DispatchPolicy)
class DispatchPolicyAdmin(admin.ModelAdmin):
    list_display = ["merchant", "booking_lead_hours", "visits_per_window", "customer_change_cutoff_hours"]


admin.site.register(TechnicianTimeOff)
