"""Complaints in the back office: shown, never edited here (every change is a service call with
its event on the ticket's timeline), except the merchant's compensation limits and tier SLAs."""

from django.contrib import admin

from aftersales.admin import BigTableAdmin, ReadOnlyAdmin
from tickets.models import (
    Compensation,
    CompensationCoupon,
    CompensationSettings,
    Complaint,
    ComplaintEscalation,
    RegulatorCase,
)


@admin.register(CompensationSettings)
class CompensationSettingsAdmin(BigTableAdmin):
    list_display = (
        "merchant",
        "agent_limit",
        "supervisor_limit",
        "agent_tier_hours",
        "supervisor_tier_hours",
        "manager_tier_hours",
        "third_party_hours",
    )
    list_select_related = ("merchant",)


class CompensationInline(admin.TabularInline):
    model = Compensation
    extra = 0
    can_delete = False
    fields = ("kind", "amount", "currency", "status", "proposed_by", "approved_by", "paid_at", "payment_reference")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RegulatorCaseInline(admin.TabularInline):
    model = RegulatorCase
    extra = 0
    can_delete = False
    fields = ("channel", "reference", "received_on", "acceptance_due_at", "accepted_on", "answer_due_at", "answered_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("ticket", "merchant", "severity", "category", "responsible_party", "tier", "closed_out_at")
    list_filter = ("severity", "category", "responsible_party", "tier")
    list_select_related = ("ticket", "merchant")
    search_fields = ("ticket__number",)
    inlines = [CompensationInline, RegulatorCaseInline]


@admin.register(Compensation)
class CompensationAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "kind", "amount", "currency", "status", "paid_at")
    list_filter = ("kind", "status")
    list_select_related = ("complaint",)


@admin.register(ComplaintEscalation)
class ComplaintEscalationAdmin(ReadOnlyAdmin):
    list_display = ("complaint", "from_tier", "to_tier", "by_customer", "created_at")
    list_select_related = ("complaint",)


@admin.register(RegulatorCase)
class RegulatorCaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "channel", "complaint", "received_on", "acceptance_due_at", "answer_due_at")
    list_filter = ("channel",)
    search_fields = ("reference",)
    list_select_related = ("complaint",)


@admin.register(CompensationCoupon)
class CompensationCouponAdmin(ReadOnlyAdmin):
    list_display = ("code", "amount", "currency", "created_at")
    search_fields = ("code",)
