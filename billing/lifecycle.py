"""Lifecycle stages and components of monthly revenue (revops/lifecycle-analysis).

Stage of a customer in a month, from its revenue ``mrr`` and the previous
month's ``prev`` (missing months are $0):

- new: ``mrr > 0``, never paid before;
- reactivated: ``mrr > 0``, ``prev = 0``, paid at some earlier month (so at
  least a one-month gap);
- flat: ``prev > 0`` and ``mrr = prev``; growing: ``mrr > prev > 0``;
  shrinking: ``0 < mrr < prev``;
- churned: ``prev > 0`` and ``mrr = 0``.

Components per month: new and reactivated revenue, retained (flat mrr, or prev
for growing/shrinking), expansion (``mrr - prev`` when growing), contraction
(``mrr - prev`` when shrinking, negative) and churned (``-prev`` when churned,
negative). Baseline is the previous month's total, so
``baseline + new + reactivated + expansion + contraction + churned`` is this
month's total. Rates are components over baseline × 100.

Everything is one SQL query (window functions over the grid of
``billing.adjustments.revenue_cte``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection

from revopsweb.dates import add_months, month_range

from .adjustments import Params, _as_date, revenue_cte, to_money

HISTORY_MONTHS = 18  # "last 18 months of historical data" plus the current month
RETENTION_BASES = (3, 6, 12)
RETENTION_MIN_ANNUAL = 5000  # "customers … with minimum $5K annual revenue" in the base month
MOVERS_LIMIT = 10

STAGE_SQL = """
    CASE
        WHEN amount > 0 AND prev = 0 AND paid_before = 0 THEN 'new'
        WHEN amount > 0 AND prev = 0 THEN 'reactivated'
        WHEN amount > 0 AND amount = prev THEN 'flat'
        WHEN amount > prev AND prev > 0 THEN 'growing'
        WHEN amount > 0 AND amount < prev THEN 'shrinking'
        WHEN amount = 0 AND prev > 0 THEN 'churned'
    END
"""


def life_cte(
    *, first_month: dt.date, last_month: dt.date, adjusted: bool, by_product: bool
) -> tuple[str, Params]:
    """SQL ``WITH`` clauses ending in relation ``life`` (one row per customer, or
    customer and product, and month from ``first_month`` through ``last_month``:
    ``customer_id, product_id, month, amount, prev, stage, base_3, base_6,
    base_12``, amounts in dollars) and its params; aggregate it with
    ``COMPONENT_SUMS``. The lifecycle rules over the revenue history, read by
    ``lifecycle_components``; the revenue summaries (``billing.summary``) apply the
    same stages (``STAGE_SQL``) to their stored amounts, held equal by
    ``billing/tests/test_summary.py``."""
    cte, params = revenue_cte(
        first_month=first_month,
        last_month=last_month,
        adjusted=adjusted,
        by_product=by_product,
        # Retention needs 12 months of bases and the adjustments two more; per
        # product only the previous month matters (retention is company-wide).
        lookback=1 if by_product else max(RETENTION_BASES) + 2,
    )
    cte += f""",
    lagged AS (
        SELECT customer_id, product_id, month, raw_amount, amount, paid_before,
               LAG(amount, 1, 0) OVER w AS prev,
               LAG(amount, 3, 0) OVER w AS base_3,
               LAG(amount, 6, 0) OVER w AS base_6,
               LAG(amount, 12, 0) OVER w AS base_12
        FROM adj
        WINDOW w AS (PARTITION BY customer_id, product_id ORDER BY month)
    ),
    life AS (
        SELECT lagged.*, {STAGE_SQL} AS stage FROM lagged WHERE month >= %s
    )
    """
    params.append(first_month)
    return cte, params


@dataclass(frozen=True)
class MonthComponents:
    """Lifecycle components of one month (at total level, or one product)."""

    month: dt.date
    product_id: int
    total: Decimal
    baseline: Decimal
    new: Decimal
    reactivated: Decimal
    retained: Decimal
    expansion: Decimal
    contraction: Decimal
    churned: Decimal
    # Retention sums per base (3/6/12): base-month MRR of customers ≥ $5K ARR,
    # their current MRR, and their current MRR capped at the base.
    retention_sums: dict[int, tuple[Decimal, Decimal, Decimal]] = field(default_factory=dict)

    def rate(self, component: Decimal) -> Decimal | None:
        """``component / baseline × 100`` to two decimals; None without a baseline."""
        if not self.baseline:
            return None
        return (component / self.baseline * 100).quantize(Decimal("0.01"))

    @property
    def rates(self) -> dict[str, Decimal | None]:
        return {
            "new": self.rate(self.new),
            "expansion": self.rate(self.expansion),
            "contraction": self.rate(self.contraction),
            "churn": self.rate(self.churned),
        }


def _retention_select() -> str:
    parts = []
    for base in RETENTION_BASES:
        eligible = f"base_{base} > 0 AND base_{base} * 12 >= {RETENTION_MIN_ANNUAL}"
        parts.append(
            f"SUM(CASE WHEN {eligible} THEN base_{base} ELSE 0 END) AS ret_base_{base}, "
            f"SUM(CASE WHEN {eligible} THEN amount ELSE 0 END) AS ret_now_{base}, "
            f"SUM(CASE WHEN {eligible} THEN "
            f"CASE WHEN amount < base_{base} THEN amount ELSE base_{base} END "
            f"ELSE 0 END) AS ret_gross_{base}"
        )
    return ", ".join(parts)


def lifecycle_components(
    *,
    through: dt.date,
    months: int = HISTORY_MONTHS + 1,
    adjusted: bool,
    by_product: bool = False,
) -> list[MonthComponents]:
    """Components for the ``months`` months ending with ``through``, oldest first.

    At total level (``product_id == 0``) or per product (one row per product
    and month with revenue in it or the month before; no retention sums per
    product). One query; read-only.
    """
    first_month = add_months(through, -(months - 1))
    cte, params = life_cte(
        first_month=first_month, last_month=through, adjusted=adjusted, by_product=by_product
    )
    # A product whose customers all stopped paying before the previous month
    # still has grid rows (all $0) when the window reaches back to when they
    # paid; without this the rows of a month would depend on the window asked for.
    having = "HAVING SUM(amount) > 0 OR SUM(prev) > 0" if by_product else ""
    sql = (
        cte
        + f"""
    SELECT month, product_id, {COMPONENT_SUMS}
    FROM life
    GROUP BY month, product_id
    {having}
    ORDER BY month, product_id
    """
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    by_key = {(_as_date(row[0]), int(row[1])): row for row in rows}
    result = []
    keys = sorted(by_key) if by_product else [(m, 0) for m in month_range(first_month, through)]
    for key in keys:
        row = by_key.get(key)
        result.append(components_from_row(key, row, retention=not by_product))
    return result


# The components and retention sums of a group of ``life`` rows, in the order
# ``_components`` reads them (total, baseline, new … churned, then per base
# its base, current and gross sums).
COMPONENT_SUMS = f"""
        SUM(amount) AS total,
        SUM(prev) AS baseline,
        SUM(CASE WHEN stage = 'new' THEN amount ELSE 0 END) AS new,
        SUM(CASE WHEN stage = 'reactivated' THEN amount ELSE 0 END) AS reactivated,
        SUM(CASE WHEN stage = 'flat' THEN amount
                 WHEN stage IN ('growing', 'shrinking') THEN prev ELSE 0 END) AS retained,
        SUM(CASE WHEN stage = 'growing' THEN amount - prev ELSE 0 END) AS expansion,
        SUM(CASE WHEN stage = 'shrinking' THEN amount - prev ELSE 0 END) AS contraction,
        -SUM(CASE WHEN stage = 'churned' THEN prev ELSE 0 END) AS churned,
        {_retention_select()}
"""


def empty_components(month: dt.date) -> MonthComponents:
    """Company-total components of a month without revenue movement: all zero."""
    return components_from_row((month, 0), None)


def components_from_row(
    key: tuple[dt.date, int], row: tuple[Any, ...] | None, *, retention: bool = True
) -> MonthComponents:
    values = [to_money(v) for v in row[2:]] if row else [Decimal("0.00")] * (8 + 9)
    zero = Decimal("0.00")
    # Per product there are no retention sums: the query looks back only one
    # month there, so they would depend on the window asked for.
    sums = {
        base: (values[8 + 3 * i], values[9 + 3 * i], values[10 + 3 * i])
        if retention
        else (zero, zero, zero)
        for i, base in enumerate(RETENTION_BASES)
    }
    return MonthComponents(
        month=key[0],
        product_id=key[1],
        total=values[0],
        baseline=values[1],
        new=values[2],
        reactivated=values[3],
        retained=values[4],
        expansion=values[5],
        contraction=values[6],
        churned=values[7],
        retention_sums=sums,
    )


@dataclass(frozen=True)
class CustomerMonth:
    customer_id: int
    month: dt.date
    amount: Decimal
    prev: Decimal
    stage: str | None


def customer_stages(
    *, first_month: dt.date, last_month: dt.date, adjusted: bool
) -> dict[tuple[int, dt.date], CustomerMonth]:
    """Stage of every customer (total level) in every month asked. One query."""
    cte, params = life_cte(
        first_month=first_month, last_month=last_month, adjusted=adjusted, by_product=False
    )
    with connection.cursor() as cursor:
        cursor.execute(cte + "SELECT customer_id, month, amount, prev, stage FROM life", params)
        rows = cursor.fetchall()
    result = {}
    for customer_id, month, amount, prev, stage in rows:
        item = CustomerMonth(
            int(customer_id), _as_date(month), to_money(amount), to_money(prev), stage
        )
        result[(item.customer_id, item.month)] = item
    return result


@dataclass(frozen=True)
class Mover:
    customer_id: int
    name: str
    organization_id: str
    owner_name: str | None
    prev: Decimal
    amount: Decimal
    stage: str | None

    @property
    def change(self) -> Decimal:
        return self.amount - self.prev


def biggest_movers(
    *, month: dt.date, adjusted: bool, limit: int = MOVERS_LIMIT
) -> tuple[list[Mover], list[Mover]]:
    """The ``limit`` biggest gainers and losers of ``month`` with their owners. One query."""
    cte, params = revenue_cte(
        first_month=month, last_month=month, adjusted=adjusted, lookback=1, history=False
    )
    sql = (
        cte
        + """,
    moves AS (
        SELECT customer_id, month, amount, LAG(amount, 1, 0) OVER (
            PARTITION BY customer_id ORDER BY month) AS prev
        FROM adj
    ),
    ranked AS (
        SELECT customer_id, amount, prev,
               ROW_NUMBER() OVER (ORDER BY amount - prev DESC, customer_id) AS up,
               ROW_NUMBER() OVER (ORDER BY amount - prev ASC, customer_id) AS down
        FROM moves WHERE month = %s AND amount <> prev
    )
    SELECT r.customer_id, a.name, a.organization_id, u.name, r.prev, r.amount, r.up, r.down
    FROM ranked r
    JOIN accounts_account a ON a.id = r.customer_id
    LEFT JOIN accounts_user u ON u.id = a.owner_id
    WHERE r.up <= %s OR r.down <= %s
    """
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, month, limit, limit])
        rows = cursor.fetchall()
    gainers: list[tuple[int, Mover]] = []
    losers: list[tuple[int, Mover]] = []
    for customer_id, name, org, owner, prev, amount, up, down in rows:
        prev_d, amount_d = to_money(prev), to_money(amount)
        stage = stage_between(prev_d, amount_d)
        mover = Mover(int(customer_id), name, org, owner, prev_d, amount_d, stage)
        if up <= limit and amount_d > prev_d:
            gainers.append((int(up), mover))
        if down <= limit and amount_d < prev_d:
            losers.append((int(down), mover))
    return [m for _, m in sorted(gainers, key=lambda x: x[0])], [
        m for _, m in sorted(losers, key=lambda x: x[0])
    ]


def stage_between(prev: Decimal, amount: Decimal) -> str | None:
    """Stage from two consecutive months only (movers list; new vs reactivated unknown)."""
    if amount > 0 and prev == 0:
        return "new or reactivated"
    if amount == 0 and prev > 0:
        return "churned"
    if amount > prev:
        return "growing"
    if amount < prev:
        return "shrinking"
    return "flat"
