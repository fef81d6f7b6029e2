from __future__ import annotations

from django.contrib import admin

from .models import Opportunity, RoundRobinEvent, Task, TaskEvent, Territory, TimeOff, TrackerMember


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "ownership_region", "sort_order")
    list_editable = ("ownership_region", "sort_order")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012


@admin.register(TrackerMember)
class TrackerMemberAdmin(admin.ModelAdmin):
    """Read-only here: weights change on the tracker page, which records the ledger."""

    list_display = (
        "user",
        "role",
        "priority",
        "manual_adjustment",
        "is_active",
        "leads_this_month",
    )
    list_filter = ("role", "is_active", "territories")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(TimeOff)
class TimeOffAdmin(admin.ModelAdmin):
    list_display = ("member", "starts_on", "ends_on", "deactivated_at", "reactivated_at")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RoundRobinEvent)
class RoundRobinEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "member", "kind", "delta", "period", "author", "reason")
    list_filter = ("kind", "period")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "account", "source", "lead_type", "status", "assignee", "score")
    list_filter = ("status", "source", "lead_type", "territory")


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "task", "kind", "actor", "summary")


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ("account", "record_type", "type", "amount", "close_date", "owner")
