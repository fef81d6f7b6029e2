"""Billing terms: credit grants, annual contracts, trials, forecast MRR (issue 17).

The fact tables are the truth. Rules older than them read a handful of account
columns (segments, book rules, handover flags, lead rules); those columns are
a projection of the facts, written here only, in the same transaction as the
facts change (import, API, admin):

- ``credit_balance``, ``credit_expires_on``: the latest credit grant's balance
  and expiry (by grant date); $0 and empty without one;
- ``annual_discount``: the latest annual contract's discount as a fraction
  (20% → 0.200); empty without a contract;
- ``trial_ends_on``: the latest end of the account's trials, extensions
  included; empty without one;
- ``forecasted_mrr``, ``current_period_ends_on``: the forecast of the latest
  period; without a forecast the MRR is empty and the period end is kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def refresh_account_terms(*, account_ids: Iterable[int]) -> int:
    """Rewrite the projected account columns of ``account_ids`` from the fact tables.

    One UPDATE, set-based; returns the number of accounts written. (The revenue
    summaries see the term facts through their own triggers, migration 0011.)
    """
    ids = sorted({int(i) for i in account_ids})
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE accounts_account a SET
                credit_balance = COALESCE(g.balance, 0),
                credit_expires_on = g.expires_on,
                annual_discount = c.discount,
                trial_ends_on = t.ends_on,
                forecasted_mrr = f.amount,
                current_period_ends_on = COALESCE(f.period_ends_on, a.current_period_ends_on)
            FROM unnest(%s::bigint[]) AS ids(id)
            LEFT JOIN LATERAL (
                SELECT balance, expires_on FROM billing_creditgrant
                WHERE account_id = ids.id ORDER BY granted_on DESC, id DESC LIMIT 1
            ) g ON true
            LEFT JOIN LATERAL (
                SELECT ROUND(discount_percent / 100, 3) AS discount FROM billing_annualcontract
                WHERE account_id = ids.id ORDER BY starts_on DESC, id DESC LIMIT 1
            ) c ON true
            LEFT JOIN LATERAL (
                SELECT MAX(tr.ends_on + COALESCE(
                    (SELECT SUM(e.days) FROM billing_trialextension e WHERE e.trial_id = tr.id),
                    0)::int) AS ends_on
                FROM billing_trial tr WHERE tr.account_id = ids.id
            ) t ON true
            LEFT JOIN LATERAL (
                SELECT amount, period_ends_on FROM billing_forecastmrr
                WHERE account_id = ids.id ORDER BY period_ends_on DESC, id DESC LIMIT 1
            ) f ON true
            WHERE a.id = ids.id
            """,
            [ids],
        )
        written: int = cursor.rowcount
    return written
