"""Routing, assignment, agents, macros, saved views, support settings and links in the back office.
Links are written by merges and the dashboard's link actions, so they are shown, never edited, here."""

from django.contrib import admin

from aftersales.admin import BigTableAdmin, ReadOnlyAdmin
from tickets.models import (
    AgentLoad,
    AgentProfile,
    Macro,
    RoutingRule,
    SavedView,
    SupportSettings,
    TeamAssignment,
    TicketLink,
)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "position", "is_active", "continue_after", "set_team", "set_priority"]
    list_filter = ["is_active", "merchant"]
    list_select_related = ["merchant", "set_team"]
    search_fields = ["name"]
    ordering = ["merchant", "position"]
    autocomplete_fields = ["merchant"]
    filter_horizontal = ["match_stores"]
    raw_id_fields = ["set_team", "set_sla_policy", "set_assignee"]


@admin.register(TeamAssignment)
class TeamAssignmentAdmin(admin.ModelAdmin):
    list_display = ["team", "merchant", "auto_assign", "strategy"]
    list_filter = ["auto_assign", "strategy"]
    list_select_related = ["team", "merchant"]
    search_fields = ["team__name"]
    raw_id_fields = ["team", "merchant"]


@admin.register(AgentProfile)
class AgentProfileAdmin(BigTableAdmin):
    list_display = ["user", "merchant", "status", "capacity", "status_changed_at", "last_assigned_at"]
    list_filter = ["status"]
    list_select_related = ["user", "merchant"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user", "merchant", "shift_calendar"]
    readonly_fields = ["status_changed_at", "last_assigned_at"]


@admin.register(SupportSettings)
class SupportSettingsAdmin(admin.ModelAdmin):
    list_display = ["merchant", "reopen_window_days", "duplicate_window_days", "pending_close_days"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name"]
    raw_id_fields = ["merchant"]


@admin.register(Macro)
class MacroAdmin(BigTableAdmin):
    list_display = ["name", "merchant", "owner", "is_active", "usage_count", "last_used_at"]
    list_filter = ["is_active"]
    list_select_related = ["merchant", "owner"]
    search_fields = ["name"]
    raw_id_fields = ["merchant", "owner", "assign_to"]
    readonly_fields = ["usage_count", "last_used_at"]


@admin.register(SavedView)
class SavedViewAdmin(BigTableAdmin):
    list_display = ["name", "merchant", "owner", "team"]
    list_select_related = ["merchant", "owner", "team"]
    search_fields = ["name", "owner__username"]
    raw_id_fields = ["merchant", "owner", "team"]


@admin.register(AgentLoad)
class AgentLoadAdmin(ReadOnlyAdmin):
    """Open tickets per agent and kind, kept by a trigger on the tickets table (tickets 0010)."""

    list_display = ["user", "kind", "open_count", "merchant"]
    list_filter = ["kind"]
    list_select_related = ["user", "merchant"]
    search_fields = ["user__username"]


@admin.register(TicketLink)
class TicketLinkAdmin(ReadOnlyAdmin):
    list_display = ["source", "kind", "target", "merchant", "created_by", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["source", "target", "merchant", "created_by"]
    search_fields = ["source__number", "target__number"]
