from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Delivery, JobRun
from .outbox import retry_deliveries


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "started_at", "finished_at", "rows_affected", "outcome")
    list_filter = ("job", "outcome")
    search_fields = ("job", "detail")
    date_hierarchy = "started_at"
    readonly_fields = ("job", "started_at", "finished_at", "rows_affected", "outcome", "detail")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
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
