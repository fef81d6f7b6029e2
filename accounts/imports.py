"""The accounts CSV and the weekly snapshots CSV, declared on ``revopsweb.imports``.

All or nothing: every row is validated by its row form (``accounts.forms``),
any bad row (line, column, reason) means nothing is written. Valid files
upsert in one transaction with set-based writes: accounts by organization id
(an owner change also appends an ``OwnershipChange``), snapshots by account
and week (then each touched account's current health is refreshed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from revopsweb.dates import company_today
from revopsweb.imports import ImportKind, ImportResult, Progress, RowError

from .forms import AccountRowForm, SnapshotRowForm
from .models import Account, AccountSnapshot, Region, User
from .ownership import OwnerMove, change_owners_of_locked_accounts

__all__ = [
    "ACCOUNT_HEADER",
    "SNAPSHOT_HEADER",
    "AccountImport",
    "ImportResult",
    "RowError",
    "SnapshotImport",
    "import_accounts",
    "import_snapshots",
    "region_for_country",
    "set_health_from_latest_snapshot",
]

# Countries whose accounts the EU team owns (Europe, Africa, Middle East, as the
# territories' ownership regions); everything else is US.
EU_COUNTRIES = frozenset(
    [
        "AD",
        "AE",
        "AL",
        "AT",
        "BA",
        "BE",
        "BG",
        "BH",
        "BY",
        "CH",
        "CY",
        "CZ",
        "DE",
        "DK",
        "DZ",
        "EE",
        "EG",
        "ES",
        "FI",
        "FO",
        "FR",
        "GB",
        "GH",
        "GI",
        "GR",
        "HR",
        "HU",
        "IE",
        "IL",
        "IQ",
        "IS",
        "IT",
        "JO",
        "KE",
        "KW",
        "LB",
        "LI",
        "LT",
        "LU",
        "LV",
        "MA",
        "MC",
        "MD",
        "ME",
        "MK",
        "MT",
        "NG",
        "NL",
        "NO",
        "OM",
        "PL",
        "PS",
        "PT",
        "QA",
        "RO",
        "RS",
        "RU",
        "SA",
        "SE",
        "SI",
        "SK",
        "SM",
        "TN",
        "TR",
        "UA",
        "VA",
        "ZA",
    ]
)


def region_for_country(country: str) -> str:
    return Region.EU if country in EU_COUNTRIES else Region.US


class AccountImport(ImportKind[Account]):
    """Accounts by organization id; options: ``today`` (default owner_since)."""

    name = "accounts"
    label = "Accounts"
    header = (
        "organization_id",
        "name",
        "domain",
        "country",
        "employee_count",
        "owner_email",
        "owner_role",
        "owner_since",
        "am_managed",
        "plan",
        "renewal_date",
    )
    form = AccountRowForm
    model = Account
    key_columns = ("organization_id",)
    unique_fields = ("organization_id",)
    update_fields = (
        "name",
        "domain",
        "country",
        "region",
        "employee_count",
        "owner_since",
        "am_managed",
        "plan",
        "renewal_date",
        "updated_at",
    )
    batch_size = 1000

    @property
    def today(self) -> dt.date:
        today: dt.date | None = self.options.get("today")
        return today or company_today()

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> Account:
        org = data["organization_id"]
        before = context["accounts"].get(org)
        owner: User | None = data["owner_email"]
        owner_id = owner.pk if owner else None
        role = data["owner_role"] if owner else ""
        owner_changed = before is None and owner_id is not None
        if before is not None:
            owner_changed = (before["owner_id"], before["owner_role"]) != (owner_id, role)
        since = data["owner_since"]
        if owner_id is None:
            since = None
        elif since is None:
            since = before["owner_since"] if before and not owner_changed else self.today
        country = data["country"] or (before["country"] if before else "")
        previous_region = before["region"] if before else ""
        return Account(
            organization_id=org,
            name=data["name"],
            domain=data["domain"],
            country=country,
            region=region_for_country(country) if country else previous_region,
            employee_count=data["employee_count"],
            owner_id=owner_id,
            owner_role=role,
            owner_since=since,
            am_managed=data["am_managed"],
            plan=data["plan"],
            renewal_date=data["renewal_date"],
        )

    def outcome(self, obj: Account, *, existing: bool) -> str:
        before = self.context["accounts"].get(obj.organization_id)
        previous = (before["owner_id"], before["owner_role"]) if before else (None, "")
        outcome = "update" if existing else "create"
        if previous != (obj.owner_id, obj.owner_role):
            outcome += ", owner change"
        return outcome

    def apply(self, objs: list[Account], *, progress: Progress | None = None) -> None:
        now = timezone.now()
        # Lock the accounts being updated and read their owners again, so an owner
        # change made since validation is still recorded as the previous owner.
        locked = {
            org: (owner_id, role)
            for org, owner_id, role in Account.objects.select_for_update()
            .filter(organization_id__in=[o.organization_id for o in objs])
            .order_by("pk")
            .values_list("organization_id", "owner_id", "owner_role")
        }
        for start in range(0, len(objs), self.batch_size):
            batch = objs[start : start + self.batch_size]
            # The owner is written by accounts.ownership below, with its history;
            # a new account is created unowned and moved there like any other.
            rows = [
                Account(
                    **{f.attname: getattr(obj, f.attname) for f in Account._meta.concrete_fields}
                )
                for obj in batch
            ]
            for row in rows:
                row.owner_id, row.owner_role = None, ""
            Account.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=list(self.unique_fields),
                update_fields=list(self.update_fields),
            )
            moves = []
            for row, obj in zip(rows, batch, strict=True):
                # A new account counts as unowned before.
                previous = locked.get(obj.organization_id, (None, ""))
                if previous == (obj.owner_id, obj.owner_role):
                    continue
                moves.append(
                    OwnerMove(
                        account_id=row.pk,
                        previous_owner_id=previous[0],
                        new_owner_id=obj.owner_id,
                        new_owner_role=obj.owner_role,
                        reason="Imported from the accounts CSV.",
                        effective_on=obj.owner_since or self.today,
                    )
                )
            change_owners_of_locked_accounts(
                moves=moves, changed_by=self.actor, source="import", now=now
            )
            if progress is not None:
                progress(start + len(batch), len(objs))


class SnapshotImport(ImportKind[AccountSnapshot]):
    """Weekly usage and health by account and week."""

    name = "snapshots"
    label = "Weekly snapshots"
    header = ("organization_id", "week", *AccountSnapshot.MEASURES)
    form = SnapshotRowForm
    model = AccountSnapshot
    key_columns = ("organization_id", "week")
    unique_fields = ("account", "week")
    update_fields = AccountSnapshot.MEASURES

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> AccountSnapshot:
        return AccountSnapshot(
            account_id=context["accounts"][data["organization_id"]]["pk"],
            week=data["week"],
            health=data["health"],
            **{m: data[m] for m in AccountSnapshot.MEASURES if m != "health"},
        )

    def after_apply(self, objs: list[AccountSnapshot]) -> None:
        set_health_from_latest_snapshot(account_ids={o.account_id for o in objs})


ACCOUNT_HEADER = AccountImport.header
SNAPSHOT_HEADER = SnapshotImport.header


def import_accounts(
    text: str,
    *,
    dry_run: bool,
    changed_by: User | None,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate and upsert an accounts CSV (header ``ACCOUNT_HEADER``).

    Any invalid row means nothing is applied. Rows upsert by organization_id;
    an owner change (including to unowned) appends an OwnershipChange with
    source "import", effective on owner_since (default today). Re-running the
    same file changes nothing and records no new history. ``progress(done,
    total)`` is called after each batch of 1,000 rows is written.
    """
    kind = AccountImport(actor=changed_by, today=today)
    return kind.run_csv(text, dry_run=dry_run, progress=progress)


def import_snapshots(text: str, *, dry_run: bool) -> ImportResult:
    """Validate and upsert weekly snapshots (header ``SNAPSHOT_HEADER``).

    Any invalid row means nothing is applied. Rows upsert by account and week;
    afterwards each touched account's health and active users are set from its
    latest snapshot in one UPDATE. Idempotent.
    """
    return SnapshotImport().run_csv(text, dry_run=dry_run)


def set_health_from_latest_snapshot(*, account_ids: Collection[int] | None) -> int:
    """Set the current health and active users of the accounts with ids
    ``account_ids`` (every account for None) from each one's latest weekly
    snapshot; returns the accounts changed. Accounts without a snapshot are left
    alone. Idempotent.

    One UPDATE joined to each account's latest snapshot (DISTINCT ON), writing
    only the rows whose values change: an unchanged account is not rewritten.
    The correlated form (one subquery per account and column) took most of a
    902 s demo seed at 100,000 accounts.
    """
    only = "" if account_ids is None else "WHERE account_id = ANY(%(ids)s)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE accounts_account a
            SET health = s.health, active_users_30d = s.active_users_30d
            FROM (
                SELECT DISTINCT ON (account_id) account_id, health, active_users_30d
                FROM accounts_accountsnapshot
                {only}
                ORDER BY account_id, week DESC
            ) s
            WHERE a.id = s.account_id
              AND (a.health, a.active_users_30d) IS DISTINCT FROM (s.health, s.active_users_30d)
            """,  # noqa: S608 - ``only`` is one of two fixed strings
            {"ids": None if account_ids is None else list(account_ids)},
        )
        return int(cursor.rowcount)
