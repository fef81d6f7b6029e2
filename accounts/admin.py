from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied

from revopsweb.imports import RowValidatedModelForm

from .api import issue_integration_token
from .forms import AccountRowForm, SnapshotRowForm
from .models import (
    Account,
    AccountPlan,
    AccountSnapshot,
    Activity,
    Contact,
    IntegrationToken,
    OwnershipChange,
    User,
)
from .permissions import can_change_access, can_set_password_of, may_edit_person


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    ordering = ("name",)
    list_display = ("name", "email", "title", "region", "team_lead", "is_active", "is_staff")
    list_filter = ("groups", "region", "is_active", "is_staff")
    search_fields = ("name", "email", "title")
    list_select_related = ("team_lead",)
    autocomplete_fields = ("team_lead",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            "Person",
            {"fields": ("name", "title", "region", "team_lead", "started_on", "quarterly_quota")},
        ),
        ("Roles and access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "name", "password1", "password2", "groups")},
        ),
    )
    filter_horizontal = ("groups",)

    # Roles, admin access and other people's passwords are a superuser's to
    # change (accounts.permissions.can_change_access): RevOps manage people's
    # details, but cannot promote themselves or anyone else.
    ACCESS_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        readonly = tuple(super().get_readonly_fields(request, obj))
        if can_change_access(request.user):
            return readonly
        return (*readonly, *self.ACCESS_FIELDS)

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None or can_change_access(request.user):
            return fieldsets
        # The add form has no read-only display: leave the roles out of it.
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f != "groups")})
            for name, opts in fieldsets
        ]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and not may_edit_person(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and not may_edit_person(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):  # type: ignore[no-untyped-def]
        person = self.get_object(request, unquote(id))
        if person is not None and not can_set_password_of(request.user, person):
            raise PermissionDenied("Only a superuser sets another person's password.")
        return super().user_change_password(request, id, form_url)


class OwnershipChangeInline(admin.TabularInline[OwnershipChange, Account]):
    model = OwnershipChange
    extra = 0
    can_delete = False
    fields = (
        "at",
        "previous_owner",
        "new_owner",
        "new_owner_role",
        "actor",
        "reason",
        "source",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class AccountAdminForm(RowValidatedModelForm):
    """Validated by ``AccountRowForm``, like the accounts CSV (the owner stays read-only here)."""

    row_form = AccountRowForm

    class Meta:
        model = Account
        fields = "__all__"  # noqa: DJ007  (the admin decides which fields it shows)

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        values: dict[str, object] = {
            column: data.get(column, getattr(self.instance, column, None))
            for column in AccountRowForm.base_fields
        }
        # The owner is read-only here (it moves through handovers and the round robin).
        values.update(owner_email="", owner_role="", owner_since=None)
        return values


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin[Account]):
    form = AccountAdminForm
    list_display = (
        "name",
        "organization_id",
        "domain",
        "country",
        "region",
        "territory",
        "owner",
        "owner_role",
        "plan",
        "health",
        "am_managed",
    )
    list_filter = ("region", "territory", "owner_role", "plan", "health", "am_managed", "is_lead")
    search_fields = ("name", "domain", "organization_id", "owner__name", "owner__email")
    list_select_related = ("owner", "territory")
    autocomplete_fields = ("owner", "tam_overlay", "onboarding_specialist")
    # Owners move through handovers and the round robin, which record why.
    readonly_fields = ("owner", "owner_role", "owner_since", "created_at", "updated_at")
    inlines: ClassVar = [OwnershipChangeInline]
    show_full_result_count = False


@admin.register(OwnershipChange)
class OwnershipChangeAdmin(admin.ModelAdmin[OwnershipChange]):
    list_display = (
        "account",
        "previous_owner",
        "new_owner",
        "new_owner_role",
        "actor",
        "at",
        "source",
    )
    list_filter = ("source", "new_owner_role")
    search_fields = ("account__name", "account__organization_id", "reason")
    list_select_related = ("account", "previous_owner", "new_owner", "actor")
    date_hierarchy = "at"
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ("name", "email", "account", "title", "is_champion", "left_company_on")
    list_filter = ("is_champion",)
    search_fields = ("name", "email", "account__name")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin[Activity]):
    list_display = ("account", "kind", "from_customer", "author", "occurred_at", "summary")
    list_filter = ("kind", "from_customer")
    search_fields = ("account__name", "summary", "body")
    list_select_related = ("account", "author")
    autocomplete_fields = ("account", "contact", "author")
    date_hierarchy = "occurred_at"
    show_full_result_count = False


class AccountSnapshotAdminForm(RowValidatedModelForm):
    """Validated by ``SnapshotRowForm``, like the snapshots CSV and API."""

    row_form = SnapshotRowForm

    class Meta:
        model = AccountSnapshot
        fields = ("account", "week", *AccountSnapshot.MEASURES)

    def row_values(self, data: Mapping[str, Any]) -> dict[str, object]:
        account = data.get("account")
        return {
            **{m: data.get(m) for m in AccountSnapshot.MEASURES},
            "organization_id": account.organization_id if account else "",
            "week": data.get("week"),
        }


@admin.register(AccountSnapshot)
class AccountSnapshotAdmin(admin.ModelAdmin[AccountSnapshot]):
    form = AccountSnapshotAdminForm
    list_display = ("account", "week", "health", "active_users_30d", "events", "support_tickets")
    list_filter = ("health", "week")
    search_fields = ("account__name", "account__organization_id")
    list_select_related = ("account",)
    autocomplete_fields = ("account",)
    show_full_result_count = False


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin[IntegrationToken]):
    list_display = (
        "name",
        "scope",
        "prefix",
        "is_active",
        "created_by",
        "created_at",
        "last_used_at",
    )
    list_filter = ("scope", "is_active")
    search_fields = ("name",)
    readonly_fields = ("prefix", "created_by", "created_at", "last_used_at")
    fields = ("name", "scope", "is_active", "prefix", "created_by", "created_at", "last_used_at")

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = issue_integration_token(
            name=obj.name, scope=obj.scope, created_by=request.user
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        # Shown once: only the digest is kept.
        messages.warning(request, f"Copy this token now, it will not be shown again: {raw}")


@admin.register(AccountPlan)
class AccountPlanAdmin(admin.ModelAdmin[AccountPlan]):
    list_display = ("title", "account", "quarter_start", "author", "updated_at")
    list_filter = ("quarter_start", "no_viable_levers", "plan_above_20k")
    search_fields = ("title", "account__name", "account__organization_id")
    list_select_related = ("account", "author")
    autocomplete_fields = ("account", "author")
    show_full_result_count = False
