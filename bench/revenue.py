"""Benchmark ``revenue``: lifecycle + NDR/GDR over N accounts × 24 months.

Ratio of ``billing.lifecycle.lifecycle_components`` (adjusted and unadjusted;
the NDR/GDR sums come from the same query) to a hand-written PostgreSQL window
query computing the same unadjusted components and retention sums on the same
data, measured in the same run (target ≤ 3×). Also the server time of each
revenue page (revenue adjusted/unadjusted, htmx toggle, CSV export, quota),
through Django's test client.

Assumes the demo seed filled the database; if fewer than ``accounts`` accounts
have revenue, the missing ones are generated with ``INSERT ... SELECT
generate_series`` (organization ids ``bench_rev_*``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from bench import BenchOptions, register
from bench._common import best_seconds, seconds, vacuum_analyze
from billing.adjustments import to_money
from billing.cache import bump_revenue_data_version, warm_revenue_cache
from billing.lifecycle import lifecycle_components
from billing.revenue_data import revenue_data_through
from revopsweb.dates import add_months, company_today, month_start

MONTHS = 24
REPEATS = 2

BASELINE_SQL = """
WITH months AS (
    SELECT generate_series(%(grid_first)s::date, %(through)s::date, interval '1 month')::date
           AS month
),
m AS (
    SELECT account_id, month, SUM(amount) AS amount
    FROM billing_monthlyrevenue
    WHERE month BETWEEN %(grid_first)s AND %(through)s
    GROUP BY 1, 2
),
acc AS (SELECT account_id, MIN(month) AS first FROM m WHERE amount > 0 GROUP BY 1),
g AS (
    SELECT a.account_id, mo.month, COALESCE(m.amount, 0) AS amount
    FROM acc a JOIN months mo ON mo.month >= a.first
    LEFT JOIN m ON m.account_id = a.account_id AND m.month = mo.month
),
l AS (
    SELECT month, amount,
           LAG(amount, 1, 0) OVER w AS prev,
           LAG(amount, 3, 0) OVER w AS b3,
           LAG(amount, 6, 0) OVER w AS b6,
           LAG(amount, 12, 0) OVER w AS b12,
           BOOL_OR(amount > 0) OVER (PARTITION BY account_id ORDER BY month
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS paid_before
    FROM g WINDOW w AS (PARTITION BY account_id ORDER BY month)
)
SELECT month,
    SUM(prev),
    SUM(amount) FILTER (WHERE amount > 0 AND prev = 0 AND NOT COALESCE(paid_before, false)),
    SUM(amount) FILTER (WHERE amount > 0 AND prev = 0 AND paid_before),
    SUM(CASE WHEN amount > 0 AND prev > 0 THEN prev ELSE 0 END),
    SUM(amount - prev) FILTER (WHERE amount > prev AND prev > 0),
    SUM(amount - prev) FILTER (WHERE amount < prev AND amount > 0),
    -SUM(prev) FILTER (WHERE amount = 0 AND prev > 0),
    SUM(b3) FILTER (WHERE b3 * 12 >= 5000), SUM(amount) FILTER (WHERE b3 * 12 >= 5000),
    SUM(LEAST(amount, b3)) FILTER (WHERE b3 * 12 >= 5000),
    SUM(b6) FILTER (WHERE b6 * 12 >= 5000), SUM(amount) FILTER (WHERE b6 * 12 >= 5000),
    SUM(LEAST(amount, b6)) FILTER (WHERE b6 * 12 >= 5000),
    SUM(b12) FILTER (WHERE b12 * 12 >= 5000), SUM(amount) FILTER (WHERE b12 * 12 >= 5000),
    SUM(LEAST(amount, b12)) FILTER (WHERE b12 * 12 >= 5000)
FROM l WHERE month >= %(first)s
GROUP BY month ORDER BY month
"""

GENERATE_ACCOUNTS_SQL = """
INSERT INTO accounts_account (name, domain, organization_id, country, region, plan,
    credit_balance, has_discount_agreement, am_managed, is_lead, new_owner_trait,
    owner_role, health, business_type, created_at, updated_at)
SELECT 'Bench ' || n, '', 'bench_rev_' || n, 'US', 'US', 'monthly', 0, false, false, false,
       '', '', '', '', now(), now()
FROM generate_series(
    (SELECT COUNT(*) FROM accounts_account WHERE organization_id LIKE 'bench_rev_%%') + 1,
    (SELECT COUNT(*) FROM accounts_account WHERE organization_id LIKE 'bench_rev_%%')
        + %(missing)s
) AS n
ON CONFLICT (organization_id) DO NOTHING
"""

GENERATE_REVENUE_SQL = """
INSERT INTO billing_monthlyrevenue (account_id, product_id, month, amount)
SELECT a.id, p.id, (%(first)s::date + make_interval(months => m))::date,
       round((100 + (hashint8(a.id * 31 + m) & 4095))::numeric, 2)
FROM accounts_account a
CROSS JOIN generate_series(0, %(months)s - 1) AS m
JOIN billing_product p ON p.key = 'product_analytics'
WHERE a.organization_id LIKE 'bench_rev_%%' AND (hashint8(a.id + m * 7) & 15) <> 0
ON CONFLICT DO NOTHING
"""


def _best(work: Callable[[], Any]) -> float:
    return best_seconds(work, repeat=REPEATS)


def _ensure_data(accounts: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT account_id), MAX(month) FROM billing_monthlyrevenue")
        have, last = cursor.fetchone()
        missing = accounts - (have or 0)
        if missing <= 0:
            return
        print(f"Generating revenue for {missing} more accounts × {MONTHS} months …")
        first = (
            add_months(last, -(MONTHS - 1))
            if last
            else add_months(month_start(company_today()), -MONTHS)
        )
        cursor.execute(GENERATE_ACCOUNTS_SQL, {"missing": missing})
        cursor.execute(GENERATE_REVENUE_SQL, {"first": first, "months": MONTHS})
    vacuum_analyze()


def _page_user() -> User:
    from django.contrib.auth.models import Group

    user, _ = User.objects.get_or_create(
        email="bench-revenue@example.test", defaults={"name": "Bench RevOps"}
    )
    user.groups.add(Group.objects.get(name=Role.REVOPS))
    return user


def run(*, accounts: int) -> dict[str, float]:
    """Print and return the figures: ratios to the hand-written query and page seconds."""
    _ensure_data(accounts)
    through = revenue_data_through(today=company_today()).month
    assert through is not None  # _ensure_data has written revenue
    first = add_months(through, -(MONTHS - 1))
    params = {"first": first, "through": through, "grid_first": add_months(first, -14)}

    def baseline() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, params)
            return cursor.fetchall()

    baseline_s = _best(baseline)
    # Same question, same answer: the comparison is only fair if both agree.
    ours = lifecycle_components(through=through, months=MONTHS, adjusted=False)
    # A month before any account's first payment has no row in the window
    # query (its grid starts at each account's first month): all zeros.
    no_row = (None,) * 8
    theirs = {row[0]: row for row in baseline()}
    agree = all(
        [
            c.baseline,
            c.new,
            c.reactivated,
            c.retained,
            c.expansion,
            c.contraction,
            c.churned,
        ]
        == [to_money(v) for v in theirs.get(c.month, no_row)[1:8]]
        for c in ours
    )
    unadjusted_s = _best(
        lambda: lifecycle_components(through=through, months=MONTHS, adjusted=False)
    )
    adjusted_s = _best(lambda: lifecycle_components(through=through, months=MONTHS, adjusted=True))
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(DISTINCT account_id) FROM billing_monthlyrevenue")
        (counted,) = cursor.fetchone()
    figures = {
        "accounts_with_revenue": float(counted),
        "results_agree": float(agree),
        "baseline_window_query_s": baseline_s,
        "lifecycle_ndr_unadjusted_s": unadjusted_s,
        "lifecycle_ndr_adjusted_s": adjusted_s,
        "unadjusted_ratio": unadjusted_s / baseline_s,
        "adjusted_ratio": adjusted_s / baseline_s,
    }

    client = Client(HTTP_HOST=(settings.ALLOWED_HOSTS or ["testserver"])[0].lstrip("."))
    client.force_login(_page_user())
    month = f"{through:%Y-%m}"
    pages = {
        "page_revenue_adjusted_s": reverse("billing:revenue") + f"?month={month}",
        "page_revenue_unadjusted_s": reverse("billing:revenue")
        + f"?month={month}&basis=unadjusted",
        "page_revenue_htmx_toggle_s": reverse("billing:revenue") + f"?month={month}",
        "page_revenue_csv_s": reverse("billing:revenue_csv") + f"?month={month}",
        "page_quota_s": reverse("billing:quota"),
    }
    for name, url in pages.items():
        headers = {"HX-Request": "true"} if "htmx" in name else {}

        def fetch(url: str = url, headers: dict[str, str] = headers, cold: bool = True) -> None:
            if cold:
                bump_revenue_data_version()  # a fresh import: nothing cached
            response = client.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)

        figures[name] = _best(fetch)
        figures[name.removesuffix("_s") + "_cached_s"] = _best(partial(fetch, cold=False))

    # The hourly refresh computes the whole history; then any month's page
    # needs only its movers (measured once: a second visit is cached).
    figures["refresh_job_s"] = seconds(lambda: warm_revenue_cache(today=company_today()))
    earlier = add_months(through, -6)
    figures["page_earlier_month_after_refresh_s"] = seconds(
        lambda: client.get(reverse("billing:revenue") + f"?month={earlier:%Y-%m}")
    )

    print(f"Accounts with revenue: {counted:,}; {MONTHS} months through {through:%Y-%m}")
    print(f"Hand-written SQL window query (unadjusted): {baseline_s:.2f} s")
    print(f"Components identical to the hand-written query's: {'yes' if agree else 'NO'}")
    print(
        f"lifecycle + NDR/GDR, unadjusted: {unadjusted_s:.2f} s = "
        f"{figures['unadjusted_ratio']:.2f}× the hand-written query (target ≤ 3×)"
    )
    print(
        f"lifecycle + NDR/GDR, adjusted:   {adjusted_s:.2f} s = "
        f"{figures['adjusted_ratio']:.2f}× the hand-written query (target ≤ 3×)"
    )
    for name in pages:
        cached_s = figures[name.removesuffix("_s") + "_cached_s"]
        print(
            f"{name.removeprefix('page_').removesuffix('_s')}: {figures[name]:.2f} s server time "
            f"after an import, {cached_s:.3f} s cached"
        )
    print(
        f"refresh job (whole history, totals and per product, both bases): "
        f"{figures['refresh_job_s']:.1f} s; then the page of {earlier:%Y-%m}: "
        f"{figures['page_earlier_month_after_refresh_s']:.2f} s server time (its movers only)"
    )
    return figures


@register("revenue")
def bench_revenue(options: BenchOptions) -> dict[str, float]:
    """Lifecycle + NDR/GDR vs a hand-written window query, and the revenue pages' times."""
    return run(accounts=options.accounts)
