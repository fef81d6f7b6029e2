from __future__ import annotations

from django.contrib import admin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "started_at", "finished_at", "rows_affected", "outcome")
    list_filter = ("job", "outcome")
    search_fields = ("job", "detail")
    date_hierarchy = "started_at"
    readonly_fields = ("job", "started_at", "finished_at", "rows_affected", "outcome", "detail")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
