"""The back office for repairs. Terms, policies, centres, diagnosis codes and the parts catalogue
are edited here; repairs, quotes, lines, registrations, stock and claims move only through their
services (dashboard, portal, API), so the admin shows them read-only."""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from repairs.models import (
    DiagnosisCode,
    ExtendedWarranty,
    Part,
    PartReservation,
    PartStock,
    ProfileChange,
    RegistrationTransfer,
    RepairLine,
    RepairOrder,
    RepairPolicy,
    RepairQuote,
    ServiceCentre,
    StockLocation,
    StockMovement,
    SupplierClaim,
    TechnicianDayLoad,
    TechnicianWindowLoad,
    VisitPhoto,
    WarrantyCoverage,
    WarrantyRegistration,
    WarrantyTerm,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by services only; the admin shows them."""

    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RepairPolicy)
class RepairPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "merchant",
        "auto_triage",
        "revisit_window_days",
        "inspection_fee",
        "quote_validity_days",
        "auto_close_days",
    ]
    list_filter = ["auto_triage"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug"]
    autocomplete_fields = ["merchant"]
    show_full_result_count = False


class WarrantyCoverageInline(admin.TabularInline):
    model = WarrantyCoverage
    extra = 0


@admin.register(WarrantyTerm)
class WarrantyTermAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "product", "category", "start_basis", "is_extended", "price", "is_active"]
    list_filter = ["start_basis", "is_extended", "is_active"]
    list_select_related = ["merchant", "product"]
    search_fields = ["name", "category", "product__sku", "merchant__name"]
    autocomplete_fields = ["merchant", "product"]
    inlines = [WarrantyCoverageInline]
    show_full_result_count = False


@admin.register(ServiceCentre)
class ServiceCentreAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "district", "phone", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    search_fields = ["name", "address", "district", "merchant__name"]
    autocomplete_fields = ["merchant", "calendar"]
    show_full_result_count = False


@admin.register(DiagnosisCode)
class DiagnosisCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "responsibility", "voids_warranty", "merchant", "is_active"]
    list_filter = ["responsibility", "voids_warranty", "is_active"]
    list_select_related = ["merchant"]
    search_fields = ["code", "name", "category", "merchant__name"]
    autocomplete_fields = ["merchant"]
    show_full_result_count = False


@admin.register(Part)
class PartAdmin(admin.ModelAdmin):
    list_display = ["part_number", "name", "merchant", "cost", "price", "component", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["merchant"]
    search_fields = ["part_number", "name", "merchant__name"]
    autocomplete_fields = ["merchant", "compatible_products"]
    show_full_result_count = False


@admin.register(StockLocation)
class StockLocationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "merchant", "service_centre", "holder", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["merchant", "service_centre", "holder"]
    search_fields = ["name", "merchant__name"]
    autocomplete_fields = ["merchant", "service_centre", "holder"]
    show_full_result_count = False


@admin.register(PartStock)
class PartStockAdmin(ReadOnlyAdmin):
    list_display = ["part", "location", "on_hand", "reserved", "merchant"]
    list_select_related = ["part", "location", "merchant"]
    search_fields = ["part__part_number", "location__name"]


@admin.register(TechnicianWindowLoad)
class TechnicianWindowLoadAdmin(ReadOnlyAdmin):
    """The booking counters availability reads; kept by the visit services, rebuilt by
    ``technician_loads_rebuild``."""

    list_display = ["technician", "window_start", "visits", "merchant"]
    list_select_related = ["technician__user", "merchant"]
    search_fields = ["technician__user__username"]


@admin.register(TechnicianDayLoad)
class TechnicianDayLoadAdmin(ReadOnlyAdmin):
    list_display = ["technician", "day", "visits", "merchant"]
    list_select_related = ["technician__user", "merchant"]
    search_fields = ["technician__user__username"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "stock", "kind", "quantity", "on_hand_after", "counterpart", "actor", "note"]
    list_filter = ["kind"]
    list_select_related = ["stock__part", "stock__location", "counterpart", "actor"]
    search_fields = ["stock__part__part_number", "stock__location__name", "note"]


@admin.register(ProfileChange)
class ProfileChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "technician", "part", "actor"]
    list_select_related = ["technician__user", "part", "actor"]


@admin.register(VisitPhoto)
class VisitPhotoAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "visit", "phase", "attachment"]
    list_filter = ["phase"]
    list_select_related = ["visit", "attachment"]


@admin.register(PartReservation)
class PartReservationAdmin(ReadOnlyAdmin):
    list_display = ["repair_order", "stock", "quantity", "state", "created_at"]
    list_filter = ["state"]
    list_select_related = ["repair_order__ticket", "stock__part", "stock__location"]
    search_fields = ["repair_order__ticket__number", "stock__part__part_number"]


@admin.register(WarrantyRegistration)
class WarrantyRegistrationAdmin(ReadOnlyAdmin):
    list_display = ["serial_number", "product", "customer", "status", "source", "delivered_at", "merchant"]
    list_filter = ["status", "source"]
    list_select_related = ["product", "customer", "merchant"]
    search_fields = ["serial_number", "product__sku", "customer__email", "customer__phone"]


@admin.register(RegistrationTransfer)
class RegistrationTransferAdmin(ReadOnlyAdmin):
    list_display = ["registration", "from_customer", "to_customer", "transferred_by", "created_at"]
    list_select_related = ["registration", "from_customer", "to_customer", "transferred_by"]
    search_fields = ["registration__serial_number"]


@admin.register(ExtendedWarranty)
class ExtendedWarrantyAdmin(ReadOnlyAdmin):
    list_display = ["order_line", "term", "price_paid", "merchant"]
    list_select_related = ["order_line__order", "term", "merchant"]
    search_fields = ["order_line__order__external_number", "term__name"]


class RepairLineInline(admin.TabularInline):
    model = RepairLine
    extra = 0
    can_delete = False
    fields = ("kind", "part", "description", "quantity", "unit_price", "unit_cost", "coverage", "quote")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RepairOrder)
class RepairOrderAdmin(ReadOnlyAdmin):
    """Read-only: a repair moves only through its services (dashboard, portal, API)."""

    list_display = ["ticket", "status", "mode", "product", "serial_number", "customer", "merchant", "requested_at"]
    list_filter = ["status", "mode", "has_repeat", "repair_failed"]
    list_select_related = ["ticket", "product", "customer", "merchant"]
    search_fields = ["ticket__number", "serial_number", "customer__email", "customer__phone"]
    date_hierarchy = "requested_at"
    inlines = [RepairLineInline]


@admin.register(RepairLine)
class RepairLineAdmin(ReadOnlyAdmin):
    list_display = ["repair_order", "kind", "description", "quantity", "unit_price", "coverage"]
    list_filter = ["kind", "coverage"]
    list_select_related = ["repair_order__ticket"]
    search_fields = ["repair_order__ticket__number", "description"]


@admin.register(RepairQuote)
class RepairQuoteAdmin(ReadOnlyAdmin):
    list_display = ["repair_order", "status", "total", "valid_until", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["repair_order__ticket"]
    search_fields = ["repair_order__ticket__number"]


@admin.register(SupplierClaim)
class SupplierClaimAdmin(ReadOnlyAdmin):
    list_display = ["repair_order", "supplier", "amount", "amount_paid", "status", "reference"]
    list_filter = ["status"]
    list_select_related = ["repair_order__ticket"]
    search_fields = ["repair_order__ticket__number", "supplier", "reference"]


# --- dispatch ---------------------------------------------------------------------------------

from repairs.models import DispatchPolicy, TechnicianProfile, TechnicianTimeOff, Visit  # noqa: E402
from repairs.skills import skills_display  # noqa: E402


class TechnicianTimeOffInline(admin.TabularInline):
    model = TechnicianTimeOff
    extra = 0


@admin.register(TechnicianProfile)
class TechnicianProfileAdmin(admin.ModelAdmin):
    list_display = ["__str__", "merchant", "skills_shown", "daily_capacity", "is_active"]
    list_filter = ["merchant", "is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "phone"]
    raw_id_fields = ["user", "calendar"]
    inlines = [TechnicianTimeOffInline]

    @admin.display(description=_("skills and levels"))
    def skills_shown(self, technician: TechnicianProfile) -> str:
        return skills_display(technician.skills)


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["pk", "repair", "technician", "status", "window_start", "planned_start", "pinned"]
    list_filter = ["merchant", "status", "pinned"]
    search_fields = ["repair__ticket__number"]
    raw_id_fields = ["rescheduled_from"]
    date_hierarchy = "window_start"
    # A visit moves only through the dispatch services (locked, with its event, and counted in the
    # technicians' load counters): its status, technician and window are read-only here, and a
    # visit is neither added nor deleted here (``manage.py rebuild_visit_loads`` repairs a drift).
    readonly_fields = [
        "merchant",
        "repair",
        "technician",
        "status",
        "window_start",
        "window_end",
        "on_the_way_at",
        "expected_arrival",
        "checked_in_at",
        "checked_out_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Visit | None = None) -> bool:
        return False


@admin.register(DispatchPolicy)
class DispatchPolicyAdmin(admin.ModelAdmin):
    list_display = ["merchant", "booking_lead_hours", "visits_per_window", "customer_change_cutoff_hours"]


admin.site.register(TechnicianTimeOff)
