from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction

from accounts.admin import UserAdmin
from accounts.models import User

from .models import Opportunity, RoundRobinEvent, Task, TaskEvent, Territory, TimeOff, TrackerMember
from .people import remove_from_round_robins

# The staff admin is the accounts app's; leads adds what a switched-off login
# means for the round robin, so accounts need not know about leads.
admin.site.unregister(User)


@admin.register(User)
class StaffAdmin(UserAdmin):
    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        # Unticking "active" takes the person out of every round robin in the same
        # transaction (with a ledger event), so no lead reaches a login that is off.
        switched_off = change and "is_active" in form.changed_data and not obj.is_active
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if switched_off:
                remove_from_round_robins(
                    user=obj, author=request.user, reason="active unticked in the admin"
                )


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin[Territory]):
    list_display = ("name", "slug", "ownership_region", "sort_order")
    list_editable = ("ownership_region", "sort_order")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012


@admin.register(TrackerMember)
class TrackerMemberAdmin(admin.ModelAdmin[TrackerMember]):
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
class TimeOffAdmin(admin.ModelAdmin[TimeOff]):
    list_display = ("member", "starts_on", "ends_on", "deactivated_at", "reactivated_at")


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(RoundRobinEvent)
class RoundRobinEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "member", "kind", "delta", "period", "actor", "reason")
    list_filter = ("kind", "period")


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("pk", "account", "source", "lead_type", "status", "assignee", "score")
    list_filter = ("status", "source", "lead_type", "territory")


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "task", "kind", "actor", "summary")


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyAdmin):
    list_display = ("account", "record_type", "type", "amount", "close_date", "owner")
