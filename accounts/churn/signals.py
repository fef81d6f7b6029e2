"""The nightly churn early-warning signals, computed set-based in PostgreSQL.

Each signal is one ``INSERT ... SELECT`` over all accounts into a temporary
table of what holds tonight; three statements then reconcile that table with
``ChurnSignal``: open what is new, refresh changed evidence, clear what no
longer holds. A rerun on the same data changes nothing.

Thresholds (handbook, sales/risk-mitigation-and-churn-prevention):

- usage_drop: MRR of the month revenue data runs through (the latest imported
  month, ``billing.revenue_data``; a month not imported yet is never a drop)
  or the last complete month's average weekly events at least 30% below the
  month before, unless the same two months a year earlier fell by 30% or more
  as well (seasonal);
- health_poor: the latest 4+ weekly snapshots in a row are "poor" (the latest
  no older than three weeks);
- renewal_negative: renewal in 0–89 days and no customer-side activity for 30+
  days or health "poor";
- payment_failed: a failed invoice and no customer-side activity since its due date;
- few_active_users: 1 or 2 active users (30 days);
- no_customer_message: an owned account with no customer email or Slack
  message for 14+ days (never, for accounts older than 14 days);
- champion_left: a champion left and no current champion;
- data_export: a full data export requested in the last 30 days;
- support_spike: the latest week's tickets at least twice the average of the
  8 weeks before it (and at least 2 tickets);
- billing_visits: 3+ billing page visits in the latest week and no
  conversation (call, meeting, email, Slack) in the last 14 days;
- recommendation_stale: a recommendation (a leads task of kind
  "recommendation") still waiting on the customer on its due date and at
  least 14 days after it was given (the oldest such one is the evidence);
- single_product: the account paid for exactly one product in the revenue data
  month (low switching cost; revenue is what the app knows of usage);
- warehouse_only: the latest weekly snapshot (no older than three weeks)
  exported rows to an external warehouse and the account had no active users
  in PostHog itself (30 days): "a pipe, not a destination".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing.revenue_data import revenue_data_through
from revopsweb.dates import add_months, company_today, month_start

USAGE_DROP = Decimal("0.30")
HEALTH_POOR_WEEKS = 4
RENEWAL_WINDOW_DAYS = 90
RENEWAL_NO_TOUCH_DAYS = 30
FEW_ACTIVE_USERS_MAX = 2
NO_MESSAGE_DAYS = 14
DATA_EXPORT_WINDOW_DAYS = 30
SUPPORT_SPIKE_FACTOR = 2
SUPPORT_SPIKE_BASELINE_WEEKS = 8
SUPPORT_SPIKE_MIN_TICKETS = 2
BILLING_VISITS_MIN = 3
BILLING_NO_CONVERSATION_DAYS = 14
RECOMMENDATION_STALE_DAYS = 14
# Snapshot-based signals read only a recent latest week, so an integration that
# stopped sending does not keep a signal open forever.
SNAPSHOT_FRESH_DAYS = 21
# How far back the snapshot-based signals look: the health streak is counted
# within it (so "poor since" is at most this far back), the ticket baseline
# (8 weeks before a latest week up to 3 weeks old) and this year's two usage
# months (from the first of the month before last) fit inside it.
SNAPSHOT_RECENT_DAYS = 100

_SETUP = [
    # ON COMMIT DROP does not fire when the job runs inside an outer transaction
    # (savepoint), so a second run in the same transaction starts clean.
    "DROP TABLE IF EXISTS churn_signal_now, churn_touch, churn_snap",
    """
    CREATE TEMP TABLE churn_signal_now (
        account_id bigint NOT NULL,
        kind varchar(20) NOT NULL,
        evidence jsonb NOT NULL,
        PRIMARY KEY (account_id, kind)
    ) ON COMMIT DROP
    """,
    # One pass over the activity log serves every engagement-based signal.
    """
    CREATE TEMP TABLE churn_touch ON COMMIT DROP AS
    SELECT account_id,
           max(occurred_at) FILTER (WHERE from_customer) AS last_touch,
           max(occurred_at) FILTER (
               WHERE from_customer AND kind IN ('email', 'slack')) AS last_message,
           max(occurred_at) FILTER (
               WHERE kind IN ('call', 'meeting', 'email', 'slack')) AS last_conversation
    FROM accounts_activity
    GROUP BY account_id
    """,
    # Sorts and hashes over every account stay in memory.
    "SET LOCAL work_mem = '128MB'",
    # One pass over the weekly snapshots: the last 100 days (health streak,
    # tickets, billing visits, this year's two usage months) and last year's
    # two usage months. The snapshot-based signals read this small table.
    """
    CREATE TEMP TABLE churn_snap ON COMMIT DROP AS
    SELECT account_id, week, health, events, support_tickets, billing_page_visits,
           active_users_30d, warehouse_export_rows
    FROM accounts_accountsnapshot
    WHERE week > %(today)s - %(recent_days)s AND week <= %(today)s
    UNION ALL
    SELECT account_id, week, health, events, support_tickets, billing_page_visits,
           active_users_30d, warehouse_export_rows
    FROM accounts_accountsnapshot
    WHERE week >= %(lyp)s AND week < %(lyn)s
    """,
    "ANALYZE churn_snap",
]

# On the revenue data month (billing.revenue_data): a month not imported yet
# is not "usage dropped 100%" for every paying account. Reads the per-account
# monthly MRR summary (billing.AccountMonthMrr, the sum of an account's
# revenue rows in a month, kept by triggers): four months of its
# (month, mrr, account) index instead of the revenue table.
_USAGE_MRR = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'usage_drop', jsonb_build_object(
    'metric', 'mrr', 'month', %(rm)s::date, 'value', cur,
    'prior_month', %(rp)s::date, 'prior_value', prev,
    'drop_pct', round((1 - cur / prev) * 100, 1),
    'last_year_value', ly_cur, 'last_year_prior_value', ly_prev)
FROM (
    SELECT account_id,
           coalesce(sum(mrr) FILTER (WHERE month = %(rm)s), 0) AS cur,
           coalesce(sum(mrr) FILTER (WHERE month = %(rp)s), 0) AS prev,
           coalesce(sum(mrr) FILTER (WHERE month = %(rly)s), 0) AS ly_cur,
           coalesce(sum(mrr) FILTER (WHERE month = %(rlyp)s), 0) AS ly_prev
    FROM billing_accountmonthmrr
    WHERE month IN (%(rm)s, %(rp)s, %(rly)s, %(rlyp)s)
    GROUP BY account_id
) t
WHERE prev > 0 AND cur <= prev * (1 - %(drop)s)
  AND NOT (ly_prev > 0 AND ly_cur <= ly_prev * (1 - %(drop)s))
"""

# Weekly events averaged per calendar month (a month has four or five Mondays).
_USAGE_EVENTS = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'usage_drop', jsonb_build_object(
    'metric', 'weekly_events', 'month', %(m)s::date, 'value', round(cur),
    'prior_month', %(p)s::date, 'prior_value', round(prev),
    'drop_pct', round((1 - cur / prev) * 100, 1),
    'last_year_value', round(ly_cur), 'last_year_prior_value', round(ly_prev))
FROM (
    SELECT account_id,
           coalesce(avg(events) FILTER (WHERE week >= %(m)s AND week < %(next)s), 0) AS cur,
           coalesce(avg(events) FILTER (WHERE week >= %(p)s AND week < %(m)s), 0) AS prev,
           coalesce(avg(events) FILTER (WHERE week >= %(ly)s AND week < %(lyn)s), 0) AS ly_cur,
           coalesce(avg(events) FILTER (WHERE week >= %(lyp)s AND week < %(ly)s), 0) AS ly_prev
    FROM churn_snap
    WHERE events IS NOT NULL
      AND ((week >= %(p)s AND week < %(next)s) OR (week >= %(lyp)s AND week < %(lyn)s))
    GROUP BY account_id
) t
WHERE prev > 0 AND cur <= prev * (1 - %(drop)s)
  AND NOT (ly_prev > 0 AND ly_cur <= ly_prev * (1 - %(drop)s))
ON CONFLICT (account_id, kind) DO NOTHING
"""

_HEALTH_POOR = """
WITH recent AS (
    SELECT account_id, week, health FROM churn_snap
    WHERE week > %(today)s - %(recent_days)s AND week <= %(today)s
), last_ok AS (
    SELECT account_id, max(week) FILTER (WHERE health <> 'poor') AS ok_week
    FROM recent GROUP BY account_id
), streak AS (
    SELECT r.account_id, min(r.week) AS since, max(r.week) AS latest, count(*) AS weeks
    FROM recent r JOIN last_ok l ON l.account_id = r.account_id
    WHERE r.health = 'poor' AND (l.ok_week IS NULL OR r.week > l.ok_week)
    GROUP BY r.account_id
)
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'health_poor',
       jsonb_build_object('poor_since', since, 'latest_week', latest)
FROM streak
WHERE weeks >= %(poor_weeks)s
  AND latest - since = (weeks - 1) * 7
  AND latest >= %(today)s - %(fresh)s
"""

_RENEWAL_NEGATIVE = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT a.id, 'renewal_negative', jsonb_build_object(
    'renewal_date', a.renewal_date, 'last_customer_touch', t.last_touch::date,
    'health', a.health)
FROM accounts_account a
LEFT JOIN churn_touch t ON t.account_id = a.id
WHERE a.renewal_date >= %(today)s AND a.renewal_date < %(today)s + %(renewal_days)s
  AND (t.last_touch IS NULL OR t.last_touch <= %(no_touch_before)s OR a.health = 'poor')
"""

_PAYMENT_FAILED = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT i.account_id, 'payment_failed', jsonb_build_object(
    'invoice', i.number, 'due_on', i.due_on, 'amount', i.amount)
FROM (
    SELECT DISTINCT ON (account_id) account_id, number, due_on, amount
    FROM billing_invoice WHERE status = 'failed'
    ORDER BY account_id, due_on DESC, id DESC
) i
LEFT JOIN churn_touch t ON t.account_id = i.account_id
WHERE t.last_touch IS NULL OR t.last_touch::date < i.due_on
"""

_FEW_ACTIVE_USERS = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT id, 'few_active_users', jsonb_build_object('active_users_30d', active_users_30d)
FROM accounts_account
WHERE active_users_30d BETWEEN 1 AND %(few_users)s
"""

_NO_CUSTOMER_MESSAGE = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT a.id, 'no_customer_message',
       jsonb_build_object('last_message_on', t.last_message::date)
FROM accounts_account a
LEFT JOIN churn_touch t ON t.account_id = a.id
WHERE a.owner_id IS NOT NULL
  AND CASE WHEN t.last_message IS NULL THEN a.created_at <= %(no_message_before)s
           ELSE t.last_message <= %(no_message_before)s END
"""

_CHAMPION_LEFT = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT c.account_id, 'champion_left',
       jsonb_build_object('champion', c.name, 'left_on', c.left_company_on)
FROM (
    SELECT DISTINCT ON (account_id) account_id, name, left_company_on
    FROM accounts_contact
    WHERE is_champion AND left_company_on <= %(today)s
    ORDER BY account_id, left_company_on DESC, id DESC
) c
WHERE NOT EXISTS (
    SELECT 1 FROM accounts_contact r
    WHERE r.account_id = c.account_id AND r.is_champion
      AND (r.left_company_on IS NULL OR r.left_company_on > %(today)s)
)
"""

_DATA_EXPORT = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT DISTINCT ON (account_id) account_id, 'data_export',
       jsonb_build_object('requested_on', occurred_at::date, 'summary', summary)
FROM accounts_activity
WHERE kind = 'data_export' AND occurred_at >= %(export_since)s AND occurred_at <= %(now)s
ORDER BY account_id, occurred_at DESC, id DESC
"""

_SUPPORT_SPIKE = """
WITH recent AS (
    SELECT account_id, week, support_tickets FROM churn_snap
    WHERE week > %(today)s - %(recent_days)s AND week <= %(today)s
      AND support_tickets IS NOT NULL
), latest AS (
    SELECT DISTINCT ON (account_id) account_id, week, support_tickets
    FROM recent ORDER BY account_id, week DESC
), baseline AS (
    SELECT r.account_id, avg(r.support_tickets) AS average
    FROM recent r JOIN latest l ON l.account_id = r.account_id
    WHERE r.week < l.week AND r.week >= l.week - 7 * %(baseline_weeks)s
    GROUP BY r.account_id
)
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT l.account_id, 'support_spike', jsonb_build_object(
    'week', l.week, 'tickets', l.support_tickets, 'baseline_average', round(b.average, 2))
FROM latest l JOIN baseline b ON b.account_id = l.account_id
WHERE l.week >= %(today)s - %(fresh)s
  AND l.support_tickets >= %(min_tickets)s
  AND l.support_tickets >= %(spike)s * b.average
"""

_BILLING_VISITS = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT s.account_id, 'billing_visits', jsonb_build_object(
    'week', s.week, 'visits', s.billing_page_visits,
    'last_conversation', t.last_conversation::date)
FROM (
    SELECT DISTINCT ON (account_id) account_id, week, billing_page_visits
    FROM churn_snap
    WHERE week >= %(today)s - %(fresh)s AND week <= %(today)s
    ORDER BY account_id, week DESC
) s
LEFT JOIN churn_touch t ON t.account_id = s.account_id
WHERE s.billing_page_visits >= %(billing_visits)s
  AND (t.last_conversation IS NULL OR t.last_conversation <= %(no_conversation_before)s)
"""

# The leads app's recommendations: status "recommended" is waiting on the customer.
_RECOMMENDATION_STALE = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT DISTINCT ON (account_id) account_id, 'recommendation_stale', jsonb_build_object(
    'task', id, 'recommendation', left(message, 200),
    'given_on', (created_at AT TIME ZONE %(tz)s)::date, 'due_on', due_on)
FROM leads_task
WHERE kind = 'recommendation' AND status = 'recommended'
  AND due_on <= %(today)s AND created_at <= %(recommendation_given_before)s
ORDER BY account_id, created_at, id
"""

# On the revenue data month, as usage_drop: a month not imported yet holds no
# product at all, which is not "single product".
_SINGLE_PRODUCT = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT r.account_id, 'single_product', jsonb_build_object(
    'month', %(rm)s::date, 'product', min(p.name), 'mrr', sum(r.amount))
FROM billing_monthlyrevenue r JOIN billing_product p ON p.id = r.product_id
WHERE r.month = %(rm)s AND r.amount > 0
GROUP BY r.account_id
HAVING count(*) = 1
"""

_WAREHOUSE_ONLY = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'warehouse_only', jsonb_build_object(
    'week', week, 'warehouse_export_rows', warehouse_export_rows,
    'active_users_30d', active_users_30d)
FROM (
    SELECT DISTINCT ON (account_id) account_id, week, warehouse_export_rows, active_users_30d
    FROM churn_snap
    WHERE week >= %(today)s - %(fresh)s AND week <= %(today)s
    ORDER BY account_id, week DESC
) s
WHERE warehouse_export_rows > 0 AND active_users_30d = 0
"""

SIGNAL_STATEMENTS = (
    _USAGE_MRR,
    _USAGE_EVENTS,
    _HEALTH_POOR,
    _RENEWAL_NEGATIVE,
    _PAYMENT_FAILED,
    _FEW_ACTIVE_USERS,
    _NO_CUSTOMER_MESSAGE,
    _CHAMPION_LEFT,
    _DATA_EXPORT,
    _SUPPORT_SPIKE,
    _BILLING_VISITS,
    _RECOMMENDATION_STALE,
    _SINGLE_PRODUCT,
    _WAREHOUSE_ONLY,
)

# Statements that read the revenue data month: skipped when nothing is imported.
_REVENUE_STATEMENTS = (_USAGE_MRR, _SINGLE_PRODUCT)

_CLEAR = """
UPDATE accounts_churnsignal s SET cleared_on = %(today)s
WHERE s.cleared_on IS NULL AND NOT EXISTS (
    SELECT 1 FROM churn_signal_now n WHERE n.account_id = s.account_id AND n.kind = s.kind)
"""
_REFRESH = """
UPDATE accounts_churnsignal s SET evidence = n.evidence
FROM churn_signal_now n
WHERE s.cleared_on IS NULL AND s.account_id = n.account_id AND s.kind = n.kind
  AND s.evidence <> n.evidence
"""
_OPEN = """
INSERT INTO accounts_churnsignal (account_id, kind, evidence, detected_on, cleared_on)
SELECT n.account_id, n.kind, n.evidence, %(today)s, NULL FROM churn_signal_now n
WHERE NOT EXISTS (
    SELECT 1 FROM accounts_churnsignal s
    WHERE s.account_id = n.account_id AND s.kind = n.kind AND s.cleared_on IS NULL)
"""


def _params(now: dt.datetime, today: dt.date) -> dict[str, dt.date | Decimal | int | str | None]:
    # The usage months start at most 92 days back (the first of the month
    # before last), within SNAPSHOT_RECENT_DAYS.
    this_month = month_start(today)
    # Revenue: the latest imported month, never one not imported yet.
    revenue = revenue_data_through(today=today).month
    return {
        "today": today,
        "now": now,
        "rm": revenue,
        "rp": add_months(revenue, -1) if revenue else None,
        "rly": add_months(revenue, -12) if revenue else None,
        "rlyp": add_months(revenue, -13) if revenue else None,
        # The last complete month, the month before, and both a year earlier.
        "next": this_month,
        "m": add_months(this_month, -1),
        "p": add_months(this_month, -2),
        "lyn": add_months(this_month, -12),
        "ly": add_months(this_month, -13),
        "lyp": add_months(this_month, -14),
        "drop": USAGE_DROP,
        "poor_weeks": HEALTH_POOR_WEEKS,
        "fresh": SNAPSHOT_FRESH_DAYS,
        "recent_days": SNAPSHOT_RECENT_DAYS,
        "renewal_days": RENEWAL_WINDOW_DAYS,
        "no_touch_before": now - dt.timedelta(days=RENEWAL_NO_TOUCH_DAYS),
        "few_users": FEW_ACTIVE_USERS_MAX,
        "no_message_before": now - dt.timedelta(days=NO_MESSAGE_DAYS),
        "export_since": now - dt.timedelta(days=DATA_EXPORT_WINDOW_DAYS),
        "baseline_weeks": SUPPORT_SPIKE_BASELINE_WEEKS,
        "min_tickets": SUPPORT_SPIKE_MIN_TICKETS,
        "spike": SUPPORT_SPIKE_FACTOR,
        "billing_visits": BILLING_VISITS_MIN,
        "no_conversation_before": now - dt.timedelta(days=BILLING_NO_CONVERSATION_DAYS),
        "recommendation_given_before": now - dt.timedelta(days=RECOMMENDATION_STALE_DAYS),
        "tz": settings.TIME_ZONE,
    }


def detect_churn_signals(*, now: dt.datetime | None = None) -> int:
    """Recompute every account's churn signals; return how many rows changed.

    Opens a ``ChurnSignal`` for each condition that newly holds (detected
    today), refreshes the evidence of open ones whose figures changed, and
    sets ``cleared_on`` on open ones that no longer hold. Idempotent: a second
    run on the same data returns 0. Set-based SQL: a handful of statements
    whatever the number of accounts.
    """
    now = now or timezone.now()
    today = company_today(now=now)
    params = _params(now, today)
    changed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _SETUP:
            cursor.execute(statement, params)
        for statement in SIGNAL_STATEMENTS:
            if statement in _REVENUE_STATEMENTS and params["rm"] is None:
                continue  # no revenue imported: nothing to compare
            cursor.execute(statement, params)
        for statement in (_CLEAR, _REFRESH, _OPEN):
            cursor.execute(statement, params)
            changed += max(cursor.rowcount, 0)
    return changed
