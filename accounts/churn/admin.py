"""Admin for the churn tables. Changes go through the churn review, which records who and why."""

from __future__ import annotations

from django.contrib import admin

from .models import (
    ChurnRetro,
    ChurnRiskFlag,
    ChurnSignal,
    Escalation,
    WeeklyStatusUpdate,
)


@admin.register(ChurnSignal)
class ChurnSignalAdmin(admin.ModelAdmin[ChurnSignal]):
    list_display = ("account", "kind", "detected_on", "cleared_on")
    list_filter = ("kind", "cleared_on")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account",)
    readonly_fields = ("account", "kind", "evidence", "detected_on", "cleared_on")


class StatusInline(admin.TabularInline[WeeklyStatusUpdate, ChurnRiskFlag]):
    model = WeeklyStatusUpdate
    extra = 0
    readonly_fields = ("week", "author", "tried", "working", "help_needed", "trend", "posted_at")


class EscalationInline(admin.TabularInline[Escalation, ChurnRiskFlag]):
    model = Escalation
    extra = 0
    readonly_fields = ("team", "person", "escalated_by", "escalated_at", "note")


@admin.register(ChurnRiskFlag)
class ChurnRiskFlagAdmin(admin.ModelAdmin[ChurnRiskFlag]):
    list_display = ("account", "status", "severity", "arr_at_flag", "raised_by", "raised_at")
    list_filter = ("status", "severity")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account", "raised_by")
    readonly_fields = ("raised_by", "raised_at", "closed_by", "closed_at", "webhook_delivery")
    inlines = (StatusInline, EscalationInline)


@admin.register(ChurnRetro)
class ChurnRetroAdmin(admin.ModelAdmin[ChurnRetro]):
    list_display = ("flag", "root_cause", "written_by", "written_at")
    list_filter = ("root_cause",)
