from django.contrib import admin

from returns.models import ReturnLine, ReturnPolicy, ReturnReason, ReturnRequest, ReturnRule


class ReturnRuleInline(admin.StackedInline):
    model = ReturnRule
    extra = 0
    ordering = ["position"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["merchant", "legal_floor_days", "updated_at"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug"]
    autocomplete_fields = ["merchant"]
    inlines = [ReturnRuleInline]
    show_full_result_count = False


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "responsibility", "merchant", "parent", "position", "is_active"]
    list_filter = ["responsibility", "is_active"]
    list_select_related = ["merchant", "parent"]
    search_fields = ["name", "code", "merchant__name"]
    autocomplete_fields = ["merchant", "parent"]
    show_full_result_count = False


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "quantity", "unit_refund_amount", "window_ends_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    """Read-only: a return moves only through its services (dashboard, portal, API)."""

    list_display = ["ticket", "status", "resolution", "customer", "order", "merchant", "submitted_at"]
    list_filter = ["status", "resolution"]
    list_select_related = ["ticket", "customer", "order", "merchant"]
    search_fields = ["ticket__number", "order__external_number", "customer__email", "customer__phone"]
    date_hierarchy = "submitted_at"
    inlines = [ReturnLineInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
