"""Adjusted revenue (revops/revenue-adjustments), computed set-based in SQL.

Before any rule, both bases read the billing configurations
(billing/customer-billing-configurations): a startup-plan account's usage
counts $0 in the months it is on credits (from the grant's month until the
month its credits expire or run out, which counts again); an enterprise credit
purchase is the account's total MRR, spread evenly over its paid period (grant
month through the month before expiry), while each product's MRR is its usage
minus the credit discount (usage × paid amount ÷ credits bought).

The rules, in the order they are applied:

1. Trial: accounts on the trial plan (``Account.plan == "trial"``) count $0,
   and so does revenue in every month a recorded ``Trial`` overlaps (start to
   expiry, extensions included): the whole account's for a trial of the whole
   platform, that product's for a trial of one product (a cross-sell trial).
2. Annual plan: ``mrr / (1 - discount)`` in the months of an ``AnnualContract``
   with a discount (its start month through its last day).
3. Consolidation: an account with a ``Consolidation`` counts as its customer
   account, so the revenue of both is one series (an EU → US move is no churn).
4. One-time credit override: in a month with credits for a promo, an incident
   or a bug (the "promo, outage or billing correction" reasons of
   revops/credits) totalling ≥ 0.5 × the prior month's revenue, and the next
   month's revenue ≥ the average of the two months before the credit month,
   the month is set to the prior month's revenue (only when there was prior
   revenue: a new customer's credited first month is left as billed).
5. Spike: a month more than 2 × the average of the two previous months, at
   least $1,000 above the previous month, and followed by a month at least 50%
   lower is replaced by the average of the two previous months (the handbook
   says the spike is removed; the level it had before is what stays). An
   increase needs a level to rise from: with $0 in both previous months (a
   new customer) nothing is a spike.

Rules 4 and 5 need the following month, so the latest month that has any
revenue data is never overridden. Missing months count as $0. Rules 1–3 are linear and also apply at
product level; 4 and 5 are defined on a customer's whole bill and apply at the
total level only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection

from accounts.models import Plan
from revopsweb.dates import add_months, month_range

from .models import OVERRIDE_CREDIT_REASONS

CENT = Decimal("0.01")
SPIKE_MIN_INCREASE = 1000
TOTAL_LEVEL = 0  # product_id used for the all-products level

Params = list[Any]

# Months paid for by credit grants (billing/customer-billing-configurations), per
# account: on startup credits from the grant's month until the month the credits
# expire or run out (that month's usage is earned again), and an enterprise
# purchase spread evenly over its paid period (grant month to expiry month).
# ``paid_share`` is what the enterprise customer paid per dollar of credits
# (paid_amount / amount: 0.8 for $30,000 of credits bought for $24,000, a 20%
# credit discount); a product's MRR in those months is its usage times that share.
PAID_MONTHS_SQL = (
    "GREATEST(1, (EXTRACT(YEAR FROM {g}.expires_on)::int * 12 + EXTRACT(MONTH FROM {g}.expires_on)::int)"
    " - (EXTRACT(YEAR FROM {g}.granted_on)::int * 12 + EXTRACT(MONTH FROM {g}.granted_on)::int))"
)
# The months credit grant ``g`` pays for (timestamps, first of each month): a startup
# grant's from its month until the month before its credits expire or run out, an
# enterprise purchase's over its paid period. Its monthly payment is ``CREDIT_SPREAD_SQL``.
CREDIT_GRANT_MONTHS_SQL = f"""generate_series(
            date_trunc('month', g.granted_on),
            CASE WHEN g.kind = 'startup'
                 THEN date_trunc('month', LEAST(g.expires_on, COALESCE(g.depleted_on, g.expires_on)))
                      - interval '1 month'
                 ELSE date_trunc('month', g.granted_on)
                      + ({PAID_MONTHS_SQL.format(g="g")} - 1) * interval '1 month'
            END,
            interval '1 month')"""
CREDIT_SPREAD_SQL = f"g.paid_amount / {PAID_MONTHS_SQL.format(g='g')}"
# The months of a range, ``%s`` through ``%s`` (firsts of month), in the months
# generated per grant, contract or trial (``gs``).
IN_MONTHS = "gs.month::date BETWEEN %s AND %s"


def credit_months_sql(*, months_where: str = "") -> str:
    """The ``credit_months`` clause: per account and month, whether startup credits
    pay for it, and an enterprise purchase's spread and paid share. ``months_where``
    (``"WHERE " + IN_MONTHS``, two params: its first and last month) keeps only the
    months a query joins, instead of every month of every grant."""
    return f"""
    credit_months AS (
        SELECT g.account_id, gs.month::date AS month,
               bool_or(g.kind = 'startup') AS on_startup_credits,
               bool_or(g.kind = 'enterprise') AS enterprise,
               SUM(CASE WHEN g.kind = 'enterprise'
                        THEN {CREDIT_SPREAD_SQL} ELSE 0 END) AS spread,
               SUM(CASE WHEN g.kind = 'enterprise' THEN g.paid_amount END)
                   / NULLIF(SUM(CASE WHEN g.kind = 'enterprise' THEN g.amount END), 0)
                   AS paid_share
        FROM billing_creditgrant g
        CROSS JOIN LATERAL {CREDIT_GRANT_MONTHS_SQL} AS gs(month)
        {months_where}
        GROUP BY 1, 2
    ),"""


CREDIT_MONTHS = credit_months_sql()


def account_credit_months_sql(*, account_id: str, months: Sequence[dt.date]) -> tuple[str, Params]:
    """One account's credit grants in each of ``months``, as one row (billing/customer-billing-
    configurations; the months of ``CREDIT_GRANT_MONTHS_SQL``, as ``CREDIT_MONTHS``):
    ``on_startup_credits_<i>`` (true when startup credits pay for the i-th month, else
    false or NULL) and ``spread_<i>`` (dollars: the enterprise purchases' monthly payment
    in it, NULL without one). ``account_id`` is the SQL of the account's id, the
    correlation of a ``LATERAL`` subquery; each month is a first of month. Returns
    (sql, params); one index scan of the account's grants, however many months."""
    columns: list[str] = []
    params: Params = []
    for i, month in enumerate(months):
        columns.append(
            f"bool_or(g.kind = 'startup') FILTER (WHERE gs.month::date = %s) AS on_startup_credits_{i}"
        )
        columns.append(
            f"SUM({CREDIT_SPREAD_SQL}) FILTER (WHERE g.kind = 'enterprise' AND gs.month::date = %s)"
            f" AS spread_{i}"
        )
        params.extend([month, month])
    sql = (
        f"SELECT {', '.join(columns)} FROM billing_creditgrant g"
        f" CROSS JOIN LATERAL {CREDIT_GRANT_MONTHS_SQL} AS gs(month)"
        f" WHERE g.account_id = {account_id}"
        f" AND gs.month::date IN ({', '.join(['%s'] * len(months))})"
    )
    return sql, [*params, *months]


# A product's MRR of revenue row ``r`` joined to its ``credit_months`` row ``k``:
# $0 on startup credits, usage times what was paid per dollar of credits under an
# enterprise purchase, else the usage.
PRODUCT_MRR_SQL = (
    "CASE WHEN k.on_startup_credits THEN 0"
    " WHEN k.enterprise THEN r.amount * COALESCE(k.paid_share, 1) ELSE r.amount END"
)


# The adjusted revenue's billing terms per account and month (a few rows per
# contract or trial, so they hash-join against the revenue rows): the annual
# discount as a fraction, and the trial (whole platform, or which products).
def term_months_sql(*, in_months: bool = False) -> str:
    """The ``contract_months`` and ``trial_months`` clauses (see above); with
    ``in_months`` each keeps the months ``IN_MONTHS`` names (its two params, the
    contracts' then the trials')."""
    contract_and = f"AND {IN_MONTHS}" if in_months else ""
    trial_where = f"WHERE {IN_MONTHS}" if in_months else ""
    return f"""
    contract_months AS (
        SELECT ac.account_id, gs.month::date AS month, MAX(ac.discount_percent) / 100 AS discount
        FROM billing_annualcontract ac
        CROSS JOIN LATERAL generate_series(
            date_trunc('month', ac.starts_on), ac.ends_on, interval '1 month') AS gs(month)
        WHERE ac.discount_percent > 0 {contract_and}
        GROUP BY 1, 2
    ),
    trial_months AS (
        SELECT t.account_id, gs.month::date AS month, bool_or(t.product_id IS NULL) AS whole,
               array_remove(array_agg(t.product_id), NULL) AS products
        FROM billing_trial t
        CROSS JOIN LATERAL generate_series(
            date_trunc('month', t.starts_on),
            t.ends_on + COALESCE(
                (SELECT SUM(e.days) FROM billing_trialextension e WHERE e.trial_id = t.id), 0)::int,
            interval '1 month') AS gs(month)
        {trial_where}
        GROUP BY 1, 2
    ),"""


TERM_MONTHS = term_months_sql()


# Rules 4 and 5 on a customer's month (the total level): its billed ``amount``, the
# two months before (``p1``, ``p2``; $0 before its first month), the month after
# (``n1``: NULL for the latest month with revenue, which is left as billed) and the
# month's override ``credit`` (NULL without one). Unrounded dollars.
RULES_4_AND_5_SQL = f"""CASE
                   WHEN credit IS NOT NULL AND n1 IS NOT NULL AND p1 > 0
                        AND credit >= 0.5 * p1 AND n1 >= (p1 + p2) / 2.0
                   THEN p1
                   WHEN n1 IS NOT NULL AND p1 + p2 > 0 AND amount > 2 * ((p1 + p2) / 2.0)
                        AND amount - p1 >= {SPIKE_MIN_INCREASE} AND n1 <= 0.5 * amount
                   THEN (p1 + p2) / 2.0
                   ELSE amount
               END"""


def _adjusted_amount_sql(billed: str) -> str:
    """Rules 1 and 2 on a billed amount ``billed`` (SQL) of revenue row ``mr``, joined
    to its account ``a``, ``contract_months cm`` and ``trial_months tm``: $0 on a trial
    (the account's plan, a trial of the whole platform or of the row's product), the
    annual discount added back under a discounted contract."""
    return (
        f"CASE WHEN a.plan = '{Plan.TRIAL.value}' OR tm.whole "
        "OR mr.product_id = ANY(tm.products) THEN 0 "
        "WHEN cm.discount > 0 AND cm.discount < 1 "
        f"THEN {billed} / (1 - cm.discount) ELSE {billed} END"
    )


# What ``revenue_cte`` reads from an ``amounts`` relation (``row_amounts_sql``) for
# each (adjusted, by_product): a row's amount at that basis and level.
AMOUNT_COLUMNS = {
    (True, True): "product_amount",
    (False, True): "product_billed",
    (True, False): "company_amount",
    (False, False): "company_billed",
}


def row_amounts_sql(*, first_month: dt.date, last_month: dt.date) -> tuple[str, Params]:
    """A SELECT of the amounts of every revenue row of the months ``first_month``
    through ``last_month`` (firsts of month) under both bases and levels, the billing
    configurations and rules 1–3 applied once for all four, as ``revenue_cte``'s
    ``amounts`` relation reads them: ``account_id, customer_id`` (its consolidation's
    customer account, else itself), ``product_id`` (NULL for an enterprise purchase's
    spread), ``month`` and, unrounded dollars, ``product_billed`` and
    ``product_amount`` (a product's MRR, before and after rules 1–3),
    ``company_billed`` and ``company_amount`` (the row's share of the customer's total;
    NULL in the product columns for a spread). The spreads reach one month past
    ``last_month``, as ``revenue_cte``'s grid does (rules 4 and 5 read the month
    after). Returns (sql, params). Read-only; same input, same rows."""
    grid_last = add_months(last_month, 1)
    months = f"WHERE {IN_MONTHS}"
    product_billed = PRODUCT_MRR_SQL
    company_billed = "CASE WHEN k.on_startup_credits OR k.enterprise THEN 0 ELSE r.amount END"
    joins = (
        "JOIN accounts_account a ON a.id = mr.account_id "
        "LEFT JOIN billing_consolidation c ON c.account_id = mr.account_id "
        "LEFT JOIN contract_months cm ON cm.account_id = mr.account_id AND cm.month = mr.month "
        "LEFT JOIN trial_months tm ON tm.account_id = mr.account_id AND tm.month = mr.month"
    )
    sql = f"""
    WITH {credit_months_sql(months_where=months).strip().rstrip(",")},
    {term_months_sql(in_months=True).strip().rstrip(",")},
    billed_rows AS (
        SELECT r.account_id, r.product_id, r.month,
               {product_billed} AS product_billed, {company_billed} AS company_billed
        FROM billing_monthlyrevenue r
        LEFT JOIN credit_months k ON k.account_id = r.account_id AND k.month = r.month
        WHERE r.month >= %s AND r.month <= %s
        UNION ALL
        SELECT account_id, NULL, month, NULL, spread FROM credit_months WHERE enterprise
    )
    SELECT mr.account_id, COALESCE(c.customer_id, mr.account_id) AS customer_id,
           mr.product_id, mr.month, mr.product_billed,
           {_adjusted_amount_sql("mr.product_billed")} AS product_amount,
           mr.company_billed, {_adjusted_amount_sql("mr.company_billed")} AS company_amount
    FROM billed_rows mr {joins}
    """
    params: Params = [first_month, grid_last, first_month, grid_last, first_month, grid_last]
    params.extend([first_month, grid_last])
    return sql, params


def to_money(value: Any) -> Decimal:
    """A SQL amount (Decimal, int or float; None for no rows) as a cents-exact Decimal."""
    if value is None:
        return Decimal("0.00")
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    return Decimal(str(round(float(value), 2))).quantize(CENT)


def revenue_cte(
    *,
    first_month: dt.date,
    last_month: dt.date,
    adjusted: bool,
    by_product: bool = False,
    lookback: int = 2,
    history: bool = True,
    stored: tuple[dt.date, str] | None = None,
    revenue: str = "billing_monthlyrevenue",
    accounts: str | None = None,
    amounts: str | None = None,
) -> tuple[str, Params]:
    """SQL ``WITH`` clauses ending in a relation ``adj`` and the params to run it.

    ``adj`` has one row per customer (and product when ``by_product``, else
    ``product_id = 0``) per month from ``first_month - lookback`` (but not
    before the customer's first revenue) through ``last_month``:
    ``customer_id, product_id, month, raw_amount, amount, paid_before``.
    Customers whose last revenue was before the grid do not appear.
    ``amount`` is the adjusted revenue when ``adjusted`` (else equal to
    ``raw_amount``), ``paid_before`` is 1 when the customer had revenue in
    an earlier month: within the grid (a customer's grid starts at its first
    month with revenue, so every later row has it) or, with ``history``,
    before the grid (without it the scan of all older revenue is saved where
    new vs reactivated does not matter). ``billed`` is the unrounded amount
    before rules 4 and 5 (rules 1–3 and the billing configurations applied).
    With ``stored`` = ``(month, sql)``, the billed amounts of the grid's months
    before ``month`` are read from ``sql`` (a relation with ``customer_id,
    product_id, month, amount``: ``billed`` as an earlier run computed it; a
    missing row is $0) instead of from the revenue rows: they read their own
    month's inputs only, so they are unchanged when no input before ``month``
    changed. ``revenue`` names the relation read as the monthly revenue rows
    (``account_id, product_id, month, amount``: for ``billing.summary``'s refresh
    per account, a temporary table of some accounts' rows, or of those rows as
    they were), and ``accounts`` a relation of ``account_id``s whose enterprise
    spreads alone are read (None: every account's). ``row_amounts`` (inlined where
    it is read) holds the amounts before they are summed per key and month, one row
    per revenue row (and enterprise spread) of any month: ``customer_id, product_id,
    month, amount`` (rules 1–3 and the billing configurations applied); without
    ``history`` only the grid's months of the billing terms are joined, so it is
    read for those months alone; ``raw_rows`` (inlined too) are the rows ``raw``
    sums, before they are summed per key and month. With ``amounts`` (a relation of ``row_amounts_sql``'s
    rows covering the grid's months read from revenue rows; without ``history``)
    those amounts are read from it instead of joining ``revenue`` to the credit
    grants and billing terms again. Read-only; same input, same rows.
    """
    grid_first = add_months(first_month, -lookback)
    # One month past the end, so rules 4 and 5 can look at "the following month".
    grid_last = add_months(last_month, 1)
    months = month_range(grid_first, grid_last)
    params: Params = []

    if adjusted:
        customer = "COALESCE(c.customer_id, mr.account_id)"
        amount = _adjusted_amount_sql("mr.amount")
        consolidation_join = (
            "LEFT JOIN billing_consolidation c ON c.account_id = mr.account_id "
            "LEFT JOIN contract_months cm ON cm.account_id = mr.account_id AND cm.month = mr.month "
            "LEFT JOIN trial_months tm ON tm.account_id = mr.account_id AND tm.month = mr.month"
        )
        account_join = "JOIN accounts_account a ON a.id = mr.account_id"
    else:
        customer = "mr.account_id"
        amount = "mr.amount"
        consolidation_join = ""
        account_join = ""
    product = "mr.product_id" if by_product else str(TOTAL_LEVEL)

    # Billing configurations: usage on startup credits counts $0; an enterprise
    # credit purchase is the account's MRR over its paid period (total level),
    # and each product's MRR is its usage minus the credit discount (usage ×
    # paid_share).
    spread = (
        ""
        if by_product
        else """
        UNION ALL
        SELECT account_id, NULL, month, spread FROM credit_months WHERE enterprise"""
        + (f" AND account_id IN (SELECT account_id FROM {accounts})" if accounts else "")
    )
    billed_amount = (
        PRODUCT_MRR_SQL
        if by_product
        else "CASE WHEN k.on_startup_credits OR k.enterprise THEN 0 ELSE r.amount END"
    )
    billed = f"""
    billed AS NOT MATERIALIZED (
        SELECT r.account_id, r.product_id, r.month, {billed_amount} AS amount
        FROM {revenue} r
        LEFT JOIN credit_months k ON k.account_id = r.account_id AND k.month = r.month{spread}
    ),"""

    earlier = (
        f"""
        SELECT {customer} AS customer_id, {product} AS product_id, 1 AS paid_earlier
        FROM billed mr {account_join} {consolidation_join}
        WHERE mr.month < %s AND {amount} > 0
        GROUP BY 1, 2"""
        if history
        else "SELECT 0 AS customer_id, 0 AS product_id, 0 AS paid_earlier WHERE 1 = 0"
    )
    values = ", ".join(["(%s)"] * len(months))
    params.extend(months)
    if amounts is not None:
        # The joins above were made once for every basis and level (row_amounts_sql).
        assert not history, "amounts hold the grid's months only"
        column = AMOUNT_COLUMNS[adjusted, by_product]
        customer = "mr.customer_id" if adjusted else "mr.account_id"
        amount = f"mr.{column}"
        credit_months, terms, account_join, consolidation_join = "", "", "", ""
        spread = " WHERE product_id IS NOT NULL" if by_product else ""
        billed = f"""
    billed AS NOT MATERIALIZED (SELECT * FROM {amounts}{spread}),"""
    else:
        # Without history every revenue row read is of the grid's months: the credit
        # grants', contracts' and trials' other months join nothing (a month's import
        # read every month of the 8,156 grants of the 100,000-account bench, four times).
        in_grid = not history
        credit_months = credit_months_sql(months_where=f"WHERE {IN_MONTHS}" if in_grid else "")
        if in_grid:
            params.extend([grid_first, grid_last])
        terms = term_months_sql(in_months=in_grid) if adjusted else ""
        if in_grid and adjusted:
            params.extend([grid_first, grid_last] * 2)
    # The first month computed from the revenue rows; earlier grid months from storage.
    computed_from = max(grid_first, stored[0]) if stored else grid_first
    from_storage = (
        f"""
        UNION ALL
        SELECT customer_id, product_id, month, amount FROM ({stored[1]}) s
        WHERE month >= %s AND month < %s"""
        if stored and computed_from > grid_first
        else ""
    )
    sql = f"""
    WITH months(month) AS (VALUES {values}),{credit_months}{billed}{terms}
    row_amounts AS NOT MATERIALIZED (
        SELECT {customer} AS customer_id, {product} AS product_id, mr.month AS month,
               {amount} AS amount
        FROM billed mr {account_join} {consolidation_join}
    ),
    raw AS (
        SELECT {customer} AS customer_id, {product} AS product_id, mr.month AS month,
               SUM({amount}) AS amount
        FROM billed mr {account_join} {consolidation_join}
        WHERE mr.month >= %s AND mr.month <= %s
        GROUP BY 1, 2, 3{from_storage}
    ),
    raw_rows AS NOT MATERIALIZED (
        SELECT customer_id, product_id, month, amount FROM row_amounts
        WHERE month >= %s AND month <= %s{from_storage}
    ),
    earlier AS ({earlier}),
    first_keys AS (
        SELECT customer_id, product_id, MIN(month) AS first_month
        FROM raw WHERE amount > 0 GROUP BY 1, 2
    ),
    grid AS (
        SELECT k.customer_id, k.product_id, m.month, COALESCE(r.amount, 0) AS amount,
               CASE WHEN m.month > k.first_month OR e.paid_earlier = 1 THEN 1 ELSE 0 END
                   AS paid_before
        FROM first_keys k
        JOIN months m ON m.month >= k.first_month
        LEFT JOIN raw r ON r.customer_id = k.customer_id AND r.product_id = k.product_id
                       AND r.month = m.month
        LEFT JOIN earlier e ON e.customer_id = k.customer_id AND e.product_id = k.product_id
    ),
    """
    for _ in ("raw", "raw_rows"):
        params.extend([computed_from, grid_last])
        if from_storage:
            params.extend([grid_first, computed_from])
    if history:
        params.append(grid_first)

    if adjusted and not by_product:
        reasons = sorted(str(r) for r in OVERRIDE_CREDIT_REASONS)
        sql += f"""
    credits AS (
        SELECT COALESCE(c.customer_id, oc.account_id) AS customer_id, oc.month AS month,
               SUM(oc.amount) AS credit
        FROM billing_onetimecredit oc
        LEFT JOIN billing_consolidation c ON c.account_id = oc.account_id
        WHERE oc.month >= %s AND oc.month <= %s AND oc.reason IN ({", ".join(["%s"] * len(reasons))})
        GROUP BY 1, 2
    ),
    win AS (
        SELECT g.customer_id, g.product_id, g.month, g.amount, g.paid_before, cr.credit,
               LAG(g.amount, 1, 0) OVER w AS p1,
               LAG(g.amount, 2, 0) OVER w AS p2,
               CASE WHEN g.month < (SELECT MAX(month) FROM billing_monthlyrevenue)
                    THEN LEAD(g.amount, 1, 0) OVER w END AS n1
        FROM grid g
        LEFT JOIN credits cr ON cr.customer_id = g.customer_id AND cr.month = g.month
        WINDOW w AS (PARTITION BY g.customer_id, g.product_id ORDER BY g.month)
    ),
    adj AS (
        SELECT customer_id, product_id, month, paid_before, amount AS billed,
               ROUND(amount, 2) AS raw_amount,
               ROUND({RULES_4_AND_5_SQL}, 2) AS amount
        FROM win
        WHERE month <= %s
    )
    """
        params.extend([grid_first, grid_last, *reasons, last_month])
    else:
        sql += """
    adj AS (
        SELECT customer_id, product_id, month, paid_before, amount AS billed,
               ROUND(amount, 2) AS raw_amount, ROUND(amount, 2) AS amount
        FROM grid WHERE month <= %s
    )
    """
        params.append(last_month)
    return sql, params


def adjusted_revenue(
    *, first_month: dt.date, last_month: dt.date, adjusted: bool = True
) -> dict[tuple[int, dt.date], Decimal]:
    """Revenue per (customer account id, month) for the months asked, all products.

    With ``adjusted`` the five rules above apply and consolidated accounts are
    keyed by their customer account. Months with no revenue after a customer's
    first appear as $0. One query; read-only.
    """
    cte, params = revenue_cte(first_month=first_month, last_month=last_month, adjusted=adjusted)
    with connection.cursor() as cursor:
        cursor.execute(
            cte + "SELECT customer_id, month, amount FROM adj WHERE month >= %s",
            [*params, first_month],
        )
        rows = cursor.fetchall()
    return {(int(c), _as_date(m)): to_money(a) for c, m, a in rows}


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
