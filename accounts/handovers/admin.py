from __future__ import annotations

from typing import ClassVar

from django.contrib import admin

from .models import Handover, HandoverEvent, OnboardingCheck


class HandoverEventInline(admin.TabularInline[HandoverEvent, Handover]):
    model = HandoverEvent
    extra = 0
    can_delete = False
    fields = ("at", "action", "from_state", "to_state", "actor", "reason", "override_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Handover)
class HandoverAdmin(admin.ModelAdmin[Handover]):
    list_display = (
        "account",
        "from_owner",
        "to_owner",
        "from_role",
        "to_role",
        "state",
        "proposed_at",
    )
    list_filter = ("state", "from_role", "to_role", "reason")
    search_fields = (
        "account__name",
        "account__organization_id",
        "from_owner__name",
        "to_owner__name",
    )
    list_select_related = ("account", "from_owner", "to_owner")
    date_hierarchy = "proposed_at"
    # Steps go through the handover page, which checks preconditions and records events.
    readonly_fields = (
        "account",
        "from_owner",
        "to_owner",
        "from_role",
        "to_role",
        "state",
        "proposed_by",
        "proposed_at",
        "state_changed_at",
        "completed_at",
        "ownership_change",
    )
    inlines: ClassVar = [HandoverEventInline]
    show_full_result_count = False


@admin.register(OnboardingCheck)
class OnboardingCheckAdmin(admin.ModelAdmin[OnboardingCheck]):
    list_display = ("account", "section", "item", "checked_by", "checked_at")
    list_filter = ("section",)
    search_fields = ("account__name", "item")
    list_select_related = ("account", "checked_by")
    autocomplete_fields = ("account",)
