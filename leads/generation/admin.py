from __future__ import annotations

from django.contrib import admin

from .models import LeadRule, LeadRuleVersion


class LeadRuleVersionInline(admin.TabularInline[LeadRuleVersion, LeadRule]):
    model = LeadRuleVersion
    extra = 0
    can_delete = False
    fields = (
        "number",
        "effective_on",
        "is_active",
        "cooldown_days",
        "thresholds",
        "author",
        "reason",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Versions are added on the rule page (/leads/rules/), with a preview.
        return False


@admin.register(LeadRule)
class LeadRuleAdmin(admin.ModelAdmin[LeadRule]):
    list_display = ("name", "key", "lead_type")
    readonly_fields = ("key", "name", "lead_type", "handbook", "sort_order")
    inlines = (LeadRuleVersionInline,)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
