from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin

from revopsweb.dates import company_today
from revopsweb.forms import ModelForm

from .checks import reason_check, reason_fact_check
from .models import Handover, HandoverEvent, OnboardingCheck


class HandoverAdminForm(ModelForm[Handover]):
    """A changed reason passes the propose page's validators: one of the move's
    reasons (``reason_check``) and borne out by the facts as they stood when the
    handover was proposed (``reason_fact_check``)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        reason = cleaned.get("reason")
        handover = self.instance
        if reason and handover.pk and "reason" in self.changed_data:
            proposed_on = company_today(now=handover.proposed_at)
            for check in (
                reason_check(reason, transition=(handover.from_role, handover.to_role)),
                reason_fact_check(
                    handover.account, reason=reason, owner=handover.from_owner, today=proposed_on
                ),
            ):
                if not check.ok:
                    self.add_error("reason", check.why)
                    break
        return cleaned


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
    form = HandoverAdminForm
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
