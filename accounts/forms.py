"""The one validator of each accounts input kind (CSV row, API body, admin form).

``AccountRowForm``: a row of the accounts CSV. ``SnapshotRowForm``: one
account's week of usage and health (snapshots CSV row and the snapshot API).
Both parse through ``revopsweb.parsing``; see ``accounts.imports`` for the
import declarations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.db.models.functions import Lower

from revopsweb import parsing
from revopsweb.imports import RowForm

from .models import Account, AccountSnapshot, Health, OwnerRole, Plan, User

ORGANIZATION_ID_LENGTH = Account._meta.get_field("organization_id").max_length or 64


def accounts_by_organization_id(org_ids: Iterable[object]) -> dict[str, dict[str, Any]]:
    """``{organization_id: {pk, owner_id, owner_role, owner_since, region, country}}`` in one query."""
    wanted = {str(o).strip() for o in org_ids if isinstance(o, str | int) and str(o).strip()}
    # A NUL cannot be sent to PostgreSQL; such an id matches nothing (and is a field error).
    wanted = {o for o in wanted if "\x00" not in o and len(o) <= ORGANIZATION_ID_LENGTH}
    return {
        a["organization_id"]: dict(a)
        for a in Account.objects.filter(organization_id__in=wanted).values(
            "pk", "organization_id", "owner_id", "owner_role", "owner_since", "region", "country"
        )
    }


def active_users_by_email(emails: Iterable[object]) -> dict[str, User]:
    """Active staff by lower-cased e-mail, in one query (e-mail matching ignores case)."""
    wanted = {
        parsing.normalise_email(e)
        for e in emails
        if isinstance(e, str) and e.strip() and "\x00" not in e
    }
    if not wanted:
        return {}
    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=wanted, is_active=True
    )
    return {parsing.normalise_email(u.email): u for u in users}


def roles_of(users: Iterable[User]) -> dict[int, set[str]]:
    """Each user's role names (groups), in one query."""
    roles: dict[int, set[str]] = {}
    for pk, name in Group.objects.filter(user__in=list(users)).values_list("user", "name"):
        roles.setdefault(pk, set()).add(name)
    return roles


class AccountRowForm(RowForm):
    """One row of the accounts CSV (header ``accounts.imports.AccountImport.header``)."""

    organization_id = parsing.KeyField(max_length=ORGANIZATION_ID_LENGTH)
    name = parsing.TextField(max_length=200)
    domain = parsing.KeyField(max_length=200, required=False, case="lower")
    country = parsing.KeyField(max_length=2, required=False, case="upper")
    employee_count = parsing.IntegerField.for_column(Account, "employee_count", required=False)
    owner_email = parsing.EmailField(required=False)
    owner_role = parsing.KeyField(max_length=3, required=False, case="upper")
    owner_since = parsing.DateField(required=False, not_after_today=True)
    am_managed = parsing.BooleanField()
    plan = parsing.KeyField(max_length=10, required=False, case="lower")
    renewal_date = parsing.DateField(required=False)

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        users = active_users_by_email(r.get("owner_email") for r in records)
        return {
            "accounts": accounts_by_organization_id(r.get("organization_id") for r in records),
            "users": users,
            "roles": roles_of(users.values()),
        }

    def clean_country(self) -> str:
        country: str = self.cleaned_data["country"]
        if country and (len(country) != 2 or not country.isalpha()):
            raise forms.ValidationError("Use a two-letter ISO code.")
        return country

    def clean_owner_email(self) -> User | None:
        email: str = self.cleaned_data["owner_email"]
        if not email:
            return None
        owner: User | None = self.context["users"].get(email)
        if owner is None:
            raise forms.ValidationError(f"{email} matches no active staff user.")
        return owner

    def clean_plan(self) -> str:
        plan: str = self.cleaned_data["plan"] or Plan.MONTHLY
        if plan not in Plan.values:
            raise forms.ValidationError(f"One of {', '.join(Plan.values)}.")
        return plan

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("owner_role", "")
        if self.data.get("owner_email"):
            owner = data.get("owner_email")
            if role not in OwnerRole.values:
                self.add_error("owner_role", "One of TAE, TAM, CSM.")
            elif owner is not None and role not in self.context["roles"].get(owner.pk, ()):
                # As a handover does: the owner must work in the role the row names.
                self.add_error("owner_role", f"{owner.email} is not a {role}.")
        elif role:
            self.add_error("owner_role", "Set without an owner_email.")
        return data


class SnapshotRowForm(RowForm):
    """One account's usage and health for one week (snapshots CSV row, snapshot API body).

    The week is its Monday and not after the current week (a future week would
    pin the account's health until it arrives).
    """

    organization_id = parsing.KeyField(max_length=ORGANIZATION_ID_LENGTH)
    week = parsing.WeekField()
    health = parsing.KeyField(max_length=4, required=False, case="lower")
    active_users_30d = parsing.IntegerField.for_column(
        AccountSnapshot, "active_users_30d", required=False
    )
    events = parsing.IntegerField.for_column(AccountSnapshot, "events", min_value=0, required=False)
    support_tickets = parsing.IntegerField.for_column(
        AccountSnapshot, "support_tickets", required=False
    )
    billing_page_visits = parsing.IntegerField.for_column(
        AccountSnapshot, "billing_page_visits", required=False
    )
    warehouse_export_rows = parsing.IntegerField.for_column(
        AccountSnapshot, "warehouse_export_rows", min_value=0, required=False
    )

    @classmethod
    def prefetch(cls, records: Sequence[Mapping[str, object]]) -> dict[str, Any]:
        return {"accounts": accounts_by_organization_id(r.get("organization_id") for r in records)}

    def clean_organization_id(self) -> str:
        org: str = self.cleaned_data["organization_id"]
        if org not in self.context["accounts"]:
            raise forms.ValidationError(f"No account {org!r}.")
        return org

    def clean_health(self) -> str:
        health: str = self.cleaned_data["health"]
        if health and health not in Health.values:
            raise forms.ValidationError("One of good, fair, poor or empty.")
        return health
