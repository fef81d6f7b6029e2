from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Delivery, ImportJob, JobRun
from .outbox import retry_deliveries


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin[JobRun]):
    list_display = ("job", "started_at", "finished_at", "what_it_did", "outcome")
    list_filter = ("job", "outcome")
    search_fields = ("job", "detail")
    date_hierarchy = "started_at"
    readonly_fields = (
        "job",
        "started_at",
        "finished_at",
        "rows_affected",
        "counts",
        "outcome",
        "detail",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = (
        "kind",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    )
    list_filter = ("status", "kind")
    search_fields = ("kind", "url", "idempotency_key", "last_error")
    date_hierarchy = "created_at"
    readonly_fields = (
        "kind",
        "url",
        "payload",
        "idempotency_key",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "last_error",
    )
    actions = ("retry_now",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    @admin.action(description="Retry the selected failed deliveries now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = retry_deliveries(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} deliveries queued again.", messages.SUCCESS)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin[ImportJob]):
    """Page imports (background and checked in the request); read-only."""

    list_display = (
        "created_at",
        "kind",
        "file_name",
        "created_by",
        "dry_run",
        "state",
        "rows",
        "applied",
        "error_count",
    )
    list_filter = ("kind", "state", "applied", "dry_run")
    search_fields = ("file_name", "created_by__email")
    date_hierarchy = "created_at"
    exclude = ("data", "errors", "outcomes")
    list_select_related = ("created_by",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).defer("data", "errors", "outcomes")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
