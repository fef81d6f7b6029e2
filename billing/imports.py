"""Importing monthly revenue (CSV page, ``manage.py import_mrr`` and the JSON API).

All or nothing: every bad row is reported with its line number, column and
reason, and nothing is written if any row is bad. Good input is upserted by
account + product + month, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction

from accounts.imports import RowError
from accounts.models import Account
from revopsweb.dates import parse_month

from .cache import bump_revenue_data_version
from .models import MonthlyRevenue, Product
from .tasks import refresh_revenue_cache

HEADER = ("organization_id", "product", "month", "amount")
MAX_AMOUNT = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
BATCH_SIZE = 2000


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    applied: bool = False
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "applied": self.applied,
            "errors": [
                {"line": e.line, "column": e.column, "message": e.reason} for e in self.errors
            ],
        }


def parse_amount(text: str) -> Decimal:
    """Dollars with at most two decimals, not negative; ValueError otherwise."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError("Not a number.") from None
    if not value.is_finite():
        raise ValueError("Not a number.")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("Use at most two decimals (dollars and cents).")
    if value < 0:
        raise ValueError("Must not be negative.")
    if value > MAX_AMOUNT:
        raise ValueError("Too large.")
    return value.quantize(Decimal("0.01"))


def _validate(
    records: list[tuple[int, Mapping[str, object]]],
) -> tuple[list[MonthlyRevenue], list[RowError]]:
    org_ids = {str(r.get("organization_id") or "").strip() for _, r in records}
    accounts = dict(
        Account.objects.filter(organization_id__in=org_ids).values_list("organization_id", "id")
    )
    products = dict(Product.objects.values_list("key", "id"))
    errors: list[RowError] = []
    items: list[MonthlyRevenue] = []
    seen: dict[tuple[int, int, dt.date], int] = {}
    for line, record in records:
        row_errors: list[RowError] = []
        org = str(record.get("organization_id") or "").strip()
        key = str(record.get("product") or "").strip()
        account_id = accounts.get(org)
        product_id = products.get(key)
        if not org:
            row_errors.append(RowError(line, "organization_id", "Required."))
        elif account_id is None:
            row_errors.append(RowError(line, "organization_id", f"No account {org!r}."))
        if not key:
            row_errors.append(RowError(line, "product", "Required."))
        elif product_id is None:
            row_errors.append(RowError(line, "product", f"No product with key {key!r}."))
        month: dt.date | None = None
        try:
            month = parse_month(str(record.get("month") or ""))
        except ValueError as exc:
            row_errors.append(RowError(line, "month", str(exc)))
        amount: Decimal | None = None
        try:
            amount = parse_amount(
                str(record.get("amount") if record.get("amount") is not None else "")
            )
        except ValueError as exc:
            row_errors.append(RowError(line, "amount", str(exc)))
        if not row_errors and account_id and product_id and month and amount is not None:
            unique = (account_id, product_id, month)
            if unique in seen:
                row_errors.append(
                    RowError(
                        line, "month", f"Same account, product and month as line {seen[unique]}."
                    )
                )
            else:
                seen[unique] = line
                items.append(
                    MonthlyRevenue(
                        account_id=account_id, product_id=product_id, month=month, amount=amount
                    )
                )
        errors.extend(row_errors)
    return items, errors


def import_mrr_records(
    *, records: Iterable[tuple[int, Mapping[str, object]]], dry_run: bool = False
) -> ImportResult:
    """Validate ``(line, record)`` pairs and upsert them unless any is bad or ``dry_run``.

    Idempotent: the same records imported twice leave the same rows.
    """
    record_list = list(records)
    items, errors = _validate(record_list)
    result = ImportResult(rows=len(record_list), errors=errors)
    if errors:
        return result
    existing = set(
        MonthlyRevenue.objects.filter(
            account_id__in={i.account_id for i in items}, month__in={i.month for i in items}
        ).values_list("account_id", "product_id", "month")
    )
    result.updated = sum((i.account_id, i.product_id, i.month) in existing for i in items)
    result.created = len(items) - result.updated
    if dry_run:
        return result
    with transaction.atomic():
        MonthlyRevenue.objects.bulk_create(
            items,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["account", "month", "product"],
            update_fields=["amount"],
        )
        # New numbers: drop the cached ones now, recompute in the background.
        transaction.on_commit(bump_revenue_data_version)
        transaction.on_commit(refresh_revenue_cache.delay)
    result.applied = True
    return result


def import_mrr_csv(*, text: str, dry_run: bool = False) -> ImportResult:
    """Import CSV text with the header ``organization_id,product,month,amount``."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != HEADER:
        return ImportResult(
            errors=[RowError(1, "header", f"The header must be exactly {','.join(HEADER)}.")]
        )
    records: list[tuple[int, Mapping[str, object]]] = []
    bad: list[RowError] = []
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(HEADER):
            bad.append(RowError(line, "row", f"Expected {len(HEADER)} columns, got {len(values)}."))
            continue
        records.append((line, dict(zip(HEADER, values, strict=True))))
    result = import_mrr_records(records=records, dry_run=dry_run or bool(bad))
    if bad:
        result.errors = sorted([*bad, *result.errors], key=lambda e: e.line)
        result.applied = False
        result.rows += len(bad)
    return result
