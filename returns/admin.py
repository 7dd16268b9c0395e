from django import forms
from django.contrib import admin

from returns.models import (
    CarrierClaim,
    Refund,
    RefundExecution,
    RefundGateway,
    RefundLine,
    ReplacementShipment,
    ReturnLine,
    ReturnLineInspection,
    ReturnPolicy,
    ReturnReason,
    ReturnRequest,
    ReturnRule,
    ReturnShipment,
    StoreCreditAccount,
    StoreCreditEntry,
)


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


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger rows are written by services only; the admin shows them."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RefundGateway)
class RefundGatewayAdmin(admin.ModelAdmin):
    list_display = ["merchant", "adapter", "endpoint_url", "timeout_seconds"]
    list_filter = ["adapter"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug"]
    autocomplete_fields = ["merchant"]
    show_full_result_count = False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # The token is written, never shown back.
        form.base_fields["api_token"].widget = forms.PasswordInput(render_value=False)
        form.base_fields["api_token"].required = False
        return form

    def save_model(self, request, obj, form, change):
        if change and not form.cleaned_data.get("api_token"):
            obj.api_token = RefundGateway.objects.values_list("api_token", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)


class RefundLineInline(admin.TabularInline):
    model = RefundLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "quantity", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    # A refund settles a return, or (a complaint's compensation) stands against an order and its case.
    list_display = [
        "return_request",
        "ticket",
        "order",
        "method",
        "amount",
        "currency",
        "state",
        "granted_by",
        "created_at",
        "paid_at",
    ]
    list_filter = ["state", "method"]
    list_select_related = ["return_request__ticket", "ticket", "order", "granted_by"]
    search_fields = ["return_request__ticket__number", "ticket__number", "order__external_number", "grant_key"]
    date_hierarchy = "created_at"
    inlines = [RefundLineInline]


@admin.register(RefundExecution)
class RefundExecutionAdmin(ReadOnlyAdmin):
    list_display = ["idempotency_key", "refund", "adapter", "state", "attempts", "provider_reference", "completed_at"]
    list_filter = ["state", "adapter"]
    list_select_related = ["refund__return_request__ticket", "refund__ticket"]
    search_fields = [
        "idempotency_key",
        "provider_reference",
        "refund__return_request__ticket__number",
        "refund__ticket__number",
    ]
    date_hierarchy = "created_at"


@admin.register(StoreCreditAccount)
class StoreCreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["customer", "merchant", "balance", "currency", "updated_at"]
    list_select_related = ["customer", "merchant"]
    search_fields = ["customer__email", "customer__phone", "customer__name"]


@admin.register(StoreCreditEntry)
class StoreCreditEntryAdmin(ReadOnlyAdmin):
    list_display = ["customer", "amount", "balance_after", "reason", "return_request", "created_at"]
    list_select_related = ["customer", "return_request__ticket"]
    search_fields = ["customer__email", "customer__phone", "reference"]
    date_hierarchy = "created_at"


@admin.register(ReplacementShipment)
class ReplacementShipmentAdmin(ReadOnlyAdmin):
    list_display = ["return_request", "sku", "quantity", "carrier", "tracking_number", "state", "shipped_at"]
    list_filter = ["state"]
    list_select_related = ["return_request__ticket"]
    search_fields = ["tracking_number", "sku", "return_request__ticket__number"]


@admin.register(ReturnShipment)
class ReturnShipmentAdmin(ReadOnlyAdmin):
    list_display = ["return_request", "direction", "method", "carrier", "tracking_number", "created_at", "lost_at"]
    list_filter = ["direction", "method"]
    list_select_related = ["return_request__ticket"]
    search_fields = ["tracking_number", "return_request__ticket__number"]


@admin.register(ReturnLineInspection)
class ReturnLineInspectionAdmin(ReadOnlyAdmin):
    list_display = ["return_line", "grade", "disposition", "inspected_by", "inspected_at"]
    list_filter = ["grade", "disposition"]
    list_select_related = ["return_line__return_request__ticket", "inspected_by"]


@admin.register(CarrierClaim)
class CarrierClaimAdmin(ReadOnlyAdmin):
    """Read-only: a claim is opened by declaring a parcel lost and decided through its services."""

    list_display = [
        "return_request",
        "merchant",
        "carrier",
        "tracking_number",
        "state",
        "amount_claimed",
        "amount_recovered",
        "currency",
        "opened_at",
        "decided_at",
    ]
    list_filter = ["state", "carrier", "currency"]
    list_select_related = ["return_request__ticket", "merchant"]
    search_fields = ["tracking_number", "carrier_reference", "return_request__ticket__number"]
    date_hierarchy = "opened_at"
