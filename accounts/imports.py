"""CSV imports of accounts and of weekly snapshots, all or nothing.

Every row is validated first; any bad row (line, column, reason) means
nothing is written. Valid files upsert in one transaction with set-based
writes: accounts by organization id, snapshots by account and week.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from revopsweb.dates import company_today

from .models import (
    Account,
    AccountSnapshot,
    Health,
    OwnerRole,
    Plan,
    Region,
    User,
)
from .ownership import OwnerMove, change_owners_of_locked_accounts

ACCOUNT_HEADER = (
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
SNAPSHOT_HEADER = ("organization_id", "week", *AccountSnapshot.MEASURES)
BATCH_SIZE = 1000
Progress = Callable[[int, int], None]

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
TRUE = {"true", "yes", "1", "y"}
FALSE = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.reason}"


@dataclass
class ImportResult:
    """What an import did (or, on a dry run or with errors, would do)."""

    outcomes: list[tuple[int, str, str]] = field(default_factory=list)  # line, key, outcome
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, outcome: str) -> int:
        return sum(1 for _, _, o in self.outcomes if o == outcome)


def region_for_country(country: str) -> str:
    return Region.EU if country in EU_COUNTRIES else Region.US


def _reader(text: str, header: tuple[str, ...], result: ImportResult) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    found = tuple(name.strip() for name in (reader.fieldnames or ()))
    if found != header:
        result.errors.append(RowError(1, "header", f"expected {','.join(header)}"))
        return []
    rows = []
    for row in reader:
        if None in row:
            result.errors.append(RowError(reader.line_num, "row", "too many columns"))
            continue
        rows.append({k.strip(): (v or "").strip() for k, v in row.items()})
    return rows


def _date(value: str, line: int, column: str, errors: list[RowError]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(RowError(line, column, f"{value!r} is not a date (YYYY-MM-DD)"))
        return None


def _int(value: str, line: int, column: str, errors: list[RowError]) -> int | None:
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        errors.append(RowError(line, column, f"{value!r} is not a whole number"))
        return None
    if number < 0:
        errors.append(RowError(line, column, "must not be negative"))
        return None
    return number


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
    total)`` is called after each batch of BATCH_SIZE rows is written.
    """
    today = today or company_today()
    result = ImportResult()
    rows = _reader(text, ACCOUNT_HEADER, result)
    emails = {r["owner_email"].lower() for r in rows if r["owner_email"]}
    users = {u.email.lower(): u for u in User.objects.filter(email__in=emails, is_active=True)}
    org_ids = [r["organization_id"] for r in rows if r["organization_id"]]
    existing = {
        a["organization_id"]: a
        for a in Account.objects.filter(organization_id__in=org_ids).values(
            "pk", "organization_id", "owner_id", "owner_role", "owner_since", "region", "country"
        )
    }
    seen: dict[str, int] = {}
    prepared: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        errors: list[RowError] = []
        org = row["organization_id"]
        if not org:
            errors.append(RowError(line, "organization_id", "required"))
        elif org in seen:
            errors.append(RowError(line, "organization_id", f"repeats line {seen[org]}"))
        else:
            seen[org] = line
        if not row["name"]:
            errors.append(RowError(line, "name", "required"))
        country = row["country"].upper()
        if country and (len(country) != 2 or not country.isalpha()):
            errors.append(RowError(line, "country", "use a two-letter ISO code"))
        employees = _int(row["employee_count"], line, "employee_count", errors)
        owner = None
        if row["owner_email"]:
            owner = users.get(row["owner_email"].lower())
            if owner is None:
                errors.append(
                    RowError(line, "owner_email", f"{row['owner_email']} matches no staff user")
                )
            if row["owner_role"] not in OwnerRole.values:
                errors.append(RowError(line, "owner_role", "one of TAE, TAM, CSM"))
        elif row["owner_role"]:
            errors.append(RowError(line, "owner_role", "set without an owner_email"))
        since = _date(row["owner_since"], line, "owner_since", errors)
        if since and since > today:
            errors.append(RowError(line, "owner_since", "is in the future"))
        flag = row["am_managed"].lower()
        if flag not in TRUE | FALSE:
            errors.append(RowError(line, "am_managed", "true or false"))
        plan = row["plan"].lower() or Plan.MONTHLY
        if plan not in Plan.values:
            errors.append(RowError(line, "plan", f"one of {', '.join(Plan.values)}"))
        renewal = _date(row["renewal_date"], line, "renewal_date", errors)
        if errors:
            result.errors.extend(errors)
            continue
        before = existing.get(org)
        owner_id = owner.pk if owner else None
        role = row["owner_role"] if owner else ""
        owner_changed = before is None and owner_id is not None
        if before is not None:
            owner_changed = (before["owner_id"], before["owner_role"]) != (owner_id, role)
        if owner_id is None:
            since = None
        elif since is None:
            since = before["owner_since"] if before and not owner_changed else today
        previous_region = before["region"] if before else ""
        if not country and before:
            country = before["country"]
        values = {
            "organization_id": org,
            "name": row["name"],
            "domain": row["domain"],
            "country": country,
            "region": region_for_country(country) if country else previous_region,
            "employee_count": employees,
            "owner_id": owner_id,
            "owner_role": role,
            "owner_since": since,
            "am_managed": flag in TRUE,
            "plan": plan,
            "renewal_date": renewal,
        }
        outcome = "update" if before else "create"
        if owner_changed:
            outcome += ", owner change"
        result.outcomes.append((line, org, outcome))
        prepared.append(values)
    if result.errors or dry_run:
        return result
    _apply_accounts(prepared, changed_by=changed_by, today=today, progress=progress)
    result.applied = True
    return result


@transaction.atomic
def _apply_accounts(
    rows: list[dict[str, Any]],
    *,
    changed_by: User | None,
    today: dt.date,
    progress: Progress | None,
) -> None:
    now = timezone.now()
    # Lock the accounts being updated and read their owners again, so an owner
    # change made since validation is still recorded as the previous owner.
    locked = {
        org: (owner_id, role)
        for org, owner_id, role in Account.objects.select_for_update()
        .filter(organization_id__in=[r["organization_id"] for r in rows])
        .order_by("pk")
        .values_list("organization_id", "owner_id", "owner_role")
    }
    for start in range(0, len(rows), BATCH_SIZE):
        batch = rows[start : start + BATCH_SIZE]
        # The owner is written by accounts.ownership below, with its history;
        # a new account is created unowned and moved there like any other.
        objs = [
            Account(**{k: v for k, v in row.items() if k not in ("owner_id", "owner_role")})
            for row in batch
        ]
        Account.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["organization_id"],
            update_fields=[
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
            ],
        )
        moves = []
        for obj, row in zip(objs, batch, strict=True):
            # A new account counts as unowned before.
            previous = locked.get(row["organization_id"], (None, ""))
            if previous == (row["owner_id"], row["owner_role"]):
                continue
            moves.append(
                OwnerMove(
                    account_id=obj.pk,
                    previous_owner_id=previous[0],
                    new_owner_id=row["owner_id"],
                    new_owner_role=row["owner_role"],
                    reason="Imported from the accounts CSV.",
                    effective_on=row["owner_since"] or today,
                )
            )
        change_owners_of_locked_accounts(
            moves=moves, changed_by=changed_by, source="import", now=now
        )
        if progress is not None:
            progress(start + len(batch), len(rows))


def import_snapshots(text: str, *, dry_run: bool) -> ImportResult:
    """Validate and upsert weekly snapshots (header ``SNAPSHOT_HEADER``).

    Any invalid row means nothing is applied. Rows upsert by account and week;
    afterwards each touched account's health and active users are set from its
    latest snapshot in one UPDATE. Idempotent.
    """
    result = ImportResult()
    rows = _reader(text, SNAPSHOT_HEADER, result)
    orgs = dict(
        Account.objects.filter(
            organization_id__in={r["organization_id"] for r in rows}
        ).values_list("organization_id", "pk")
    )
    existing = set(
        AccountSnapshot.objects.filter(account_id__in=orgs.values()).values_list(
            "account_id", "week"
        )
    )
    seen: dict[tuple[str, str], int] = {}
    objs: list[AccountSnapshot] = []
    for line, row in enumerate(rows, start=2):
        errors: list[RowError] = []
        account_id = orgs.get(row["organization_id"])
        if account_id is None:
            errors.append(RowError(line, "organization_id", "matches no account"))
        week = _date(row["week"], line, "week", errors)
        if not row["week"]:
            errors.append(RowError(line, "week", "required"))
        elif week and week.weekday() != 0:
            errors.append(RowError(line, "week", "must be a Monday"))
        key = (row["organization_id"], row["week"])
        if key in seen:
            errors.append(RowError(line, "week", f"repeats line {seen[key]}"))
        seen[key] = line
        if row["health"] not in Health.values and row["health"]:
            errors.append(RowError(line, "health", "one of good, fair, poor or empty"))
        numbers = {
            column: _int(row[column], line, column, errors)
            for column in AccountSnapshot.MEASURES
            if column != "health"
        }
        if errors:
            result.errors.extend(errors)
            continue
        assert account_id is not None and week is not None
        objs.append(
            AccountSnapshot(account_id=account_id, week=week, health=row["health"], **numbers)
        )
        outcome = "update" if (account_id, week) in existing else "create"
        result.outcomes.append((line, f"{row['organization_id']} {row['week']}", outcome))
    if result.errors or dry_run:
        return result
    with transaction.atomic():
        AccountSnapshot.objects.bulk_create(
            objs,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["account", "week"],
            update_fields=AccountSnapshot.MEASURES,
        )
        set_health_from_latest_snapshot(Account.objects.filter(pk__in={o.account_id for o in objs}))
    result.applied = True
    return result


def set_health_from_latest_snapshot(accounts: QuerySet[Account]) -> int:
    """Set each of ``accounts``' current health and active users from its latest
    weekly snapshot, in one UPDATE. Idempotent; returns the rows updated."""
    latest = AccountSnapshot.objects.filter(account=OuterRef("pk")).order_by("-week")
    return accounts.update(
        health=Subquery(latest.values("health")[:1]),
        active_users_30d=Subquery(latest.values("active_users_30d")[:1]),
    )
