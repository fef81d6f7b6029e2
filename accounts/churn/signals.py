"""The nightly churn early-warning signals, computed set-based in PostgreSQL.

Each signal is one ``INSERT ... SELECT`` over all accounts into a temporary
table of what holds tonight; one statement then reconciles that table with
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

# Each account's weekly snapshots in two passes over them, the first with
# cheap aggregates (three dates). ``k``: per account, the latest week of the
# last 100 days, the latest one whose health is not "poor" (the health streak
# is the poor weeks after it) and the latest one with a ticket count (the
# ticket spike's week). The second pass reads every week against those: the
# poor streak (count, first and last week), the tickets of the spike week and
# the average of the 8 weeks before it, the latest week's billing visits,
# warehouse export rows and active users, and the average weekly events of
# the four usage months. Averages and rounding are the same numeric ones the
# signals always had, so evidence is unchanged. Accounts with no week in the
# last 100 days have no row: no signal reads them (their usage has no prior
# month). This replaced a copy of those weeks in a temporary table that five
# statements then read again (issue 20: the copy outgrew temp_buffers).
_WEEKS = """
CREATE TEMP TABLE churn_week ON COMMIT DROP AS
SELECT s.account_id,
       -- One value per account: min() only lifts them past the GROUP BY, which
       -- on the account alone the planner sizes right (about one group an account).
       min(k.latest) AS latest, min(k.tickets_week) AS tickets_week,
       count(*) FILTER (WHERE s.health = 'poor' AND s.week > k.streak_after) AS poor_weeks,
       min(s.week) FILTER (WHERE s.health = 'poor' AND s.week > k.streak_after) AS poor_since,
       max(s.week) FILTER (WHERE s.health = 'poor' AND s.week > k.streak_after) AS poor_latest,
       max(s.support_tickets) FILTER (WHERE s.week = k.tickets_week) AS tickets,
       avg(s.support_tickets) FILTER (
           WHERE s.week < k.tickets_week
             AND s.week >= k.tickets_week - 7 * %(baseline_weeks)s) AS tickets_baseline,
       max(s.billing_page_visits) FILTER (WHERE s.week = k.latest) AS billing_page_visits,
       max(s.warehouse_export_rows) FILTER (WHERE s.week = k.latest) AS warehouse_export_rows,
       max(s.active_users_30d) FILTER (WHERE s.week = k.latest) AS active_users_30d,
       coalesce(avg(s.events) FILTER (WHERE s.week >= %(m)s AND s.week < %(next)s), 0) AS ev_cur,
       coalesce(avg(s.events) FILTER (WHERE s.week >= %(p)s AND s.week < %(m)s), 0) AS ev_prev,
       coalesce(avg(s.events) FILTER (WHERE s.week >= %(ly)s AND s.week < %(lyn)s), 0)
           AS ev_ly_cur,
       coalesce(avg(s.events) FILTER (WHERE s.week >= %(lyp)s AND s.week < %(ly)s), 0)
           AS ev_ly_prev
FROM accounts_accountsnapshot s
JOIN (
    SELECT account_id, max(week) AS latest,
           -- The streak: poor weeks after the latest week that is not, within the 100 days.
           coalesce(max(week) FILTER (WHERE health <> 'poor'), %(today)s - %(recent_days)s)
               AS streak_after,
           max(week) FILTER (WHERE support_tickets IS NOT NULL) AS tickets_week
    FROM accounts_accountsnapshot
    WHERE week > %(today)s - %(recent_days)s AND week <= %(today)s
    GROUP BY account_id
) k ON k.account_id = s.account_id
WHERE (s.week > %(today)s - %(recent_days)s AND s.week <= %(today)s)
   OR (s.week >= %(lyp)s AND s.week < %(lyn)s)
GROUP BY s.account_id
"""

_SETUP = [
    # ON COMMIT DROP does not fire when the job runs inside an outer transaction
    # (savepoint), so a second run in the same transaction starts clean.
    "DROP TABLE IF EXISTS churn_signal_now, churn_touch, churn_week",
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
    # Serial plans: a parallel hash join here has every worker build the
    # per-account marks again (three passes instead of one), and the nightly
    # job should not take every core of the database server.
    "SET LOCAL max_parallel_workers_per_gather = 0",
    # One row per account from the weekly snapshots (the last 100 days and last
    # year's two usage months); the snapshot-based signals read this table.
    _WEEKS,
]

# On the revenue data month (billing.revenue_data): a month not imported yet
# is not "usage dropped 100%" for every paying account. Reads the per-account
# monthly MRR summary (billing.AccountMonthMrr, the sum of an account's
# revenue rows in a month, kept by triggers; at most one row an account and
# month, a missing row is $0) through its (month, mrr, account) index: the
# prior month's paying accounts joined with the month, then last year's two
# months joined for the few that fell, not four months of every account
# grouped (issue 20: about 2.4x less backend CPU at 100,000 accounts).
_USAGE_MRR = """
WITH fell AS MATERIALIZED (
    SELECT p.account_id, p.mrr AS prev, coalesce(c.mrr, 0) AS cur
    FROM billing_accountmonthmrr p
    LEFT JOIN billing_accountmonthmrr c ON c.account_id = p.account_id AND c.month = %(rm)s
    WHERE p.month = %(rp)s AND p.mrr > 0
      AND coalesce(c.mrr, 0) <= p.mrr * (1 - %(drop)s)
)
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'usage_drop', jsonb_build_object(
    'metric', 'mrr', 'month', %(rm)s::date, 'value', cur,
    'prior_month', %(rp)s::date, 'prior_value', prev,
    'drop_pct', round((1 - cur / prev) * 100, 1),
    'last_year_value', ly_cur, 'last_year_prior_value', ly_prev)
FROM (
    SELECT f.account_id, f.cur, f.prev,
           coalesce(lc.mrr, 0) AS ly_cur, coalesce(lp.mrr, 0) AS ly_prev
    FROM fell f
    LEFT JOIN billing_accountmonthmrr lc ON lc.account_id = f.account_id AND lc.month = %(rly)s
    LEFT JOIN billing_accountmonthmrr lp ON lp.account_id = f.account_id AND lp.month = %(rlyp)s
) t
WHERE NOT (ly_prev > 0 AND ly_cur <= ly_prev * (1 - %(drop)s))
"""

# Weekly events averaged per calendar month (a month has four or five Mondays).
_USAGE_EVENTS = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'usage_drop', jsonb_build_object(
    'metric', 'weekly_events', 'month', %(m)s::date, 'value', round(ev_cur),
    'prior_month', %(p)s::date, 'prior_value', round(ev_prev),
    'drop_pct', round((1 - ev_cur / ev_prev) * 100, 1),
    'last_year_value', round(ev_ly_cur), 'last_year_prior_value', round(ev_ly_prev))
FROM churn_week
WHERE ev_prev > 0 AND ev_cur <= ev_prev * (1 - %(drop)s)
  AND NOT (ev_ly_prev > 0 AND ev_ly_cur <= ev_ly_prev * (1 - %(drop)s))
ON CONFLICT (account_id, kind) DO NOTHING
"""

_HEALTH_POOR = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'health_poor',
       jsonb_build_object('poor_since', poor_since, 'latest_week', poor_latest)
FROM churn_week
WHERE poor_weeks >= %(poor_weeks)s
  AND poor_latest - poor_since = (poor_weeks - 1) * 7
  AND poor_latest >= %(today)s - %(fresh)s
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
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'support_spike', jsonb_build_object(
    'week', tickets_week, 'tickets', tickets, 'baseline_average', round(tickets_baseline, 2))
FROM churn_week
WHERE tickets_week >= %(today)s - %(fresh)s
  AND tickets >= %(min_tickets)s
  AND tickets >= %(spike)s * tickets_baseline
"""

_BILLING_VISITS = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT w.account_id, 'billing_visits', jsonb_build_object(
    'week', w.latest, 'visits', w.billing_page_visits,
    'last_conversation', t.last_conversation::date)
FROM churn_week w
LEFT JOIN churn_touch t ON t.account_id = w.account_id
WHERE w.latest >= %(today)s - %(fresh)s
  AND w.billing_page_visits >= %(billing_visits)s
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
# product at all, which is not "single product". Reads the per-account monthly
# summary (billing.AccountMonthMrr; its triggers count the month's products
# billed, amount > 0, and sum their ids, which is the product's id when there is
# one): one month of the revenue table's rows touched every page of it, since
# they are stored by account (issue 20). Rows of amount 0 add nothing to mrr,
# so it is the one product's amount.
_SINGLE_PRODUCT = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT s.account_id, 'single_product', jsonb_build_object(
    'month', %(rm)s::date, 'product', p.name, 'mrr', s.mrr)
FROM billing_accountmonthmrr s JOIN billing_product p ON p.id = s.billed_product_id_sum
WHERE s.month = %(rm)s AND s.billed_products = 1
"""

_WAREHOUSE_ONLY = """
INSERT INTO churn_signal_now (account_id, kind, evidence)
SELECT account_id, 'warehouse_only', jsonb_build_object(
    'week', latest, 'warehouse_export_rows', warehouse_export_rows,
    'active_users_30d', active_users_30d)
FROM churn_week
WHERE latest >= %(today)s - %(fresh)s
  AND warehouse_export_rows > 0 AND active_users_30d = 0
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

# Reconciles tonight's conditions with the open ChurnSignal rows in one
# statement: one full join of the open rows with churn_signal_now finds what
# to clear (open, no longer holds), refresh (both, evidence changed) and open
# (holds, none open), and three data-modifying CTEs write them. It replaced
# three statements that each joined the two (issue 20: on the 100,000-account
# seed a night with nothing to change took 0.08 s of backend CPU here against
# 0.20-0.23 s for the three; with 85,806 changes about the same, the writes
# dominate). Their rows are disjoint (a clear and a refresh never meet the same
# row, and the insert adds rows whose kind has no open one), so no row is
# written twice.
_RECONCILE = """
WITH change AS MATERIALIZED (
    SELECT o.id, n.account_id, n.kind, n.evidence
    FROM (
        SELECT id, account_id, kind, evidence FROM accounts_churnsignal
        WHERE cleared_on IS NULL
    ) o
    FULL JOIN churn_signal_now n ON n.account_id = o.account_id AND n.kind = o.kind
    WHERE o.id IS NULL OR n.account_id IS NULL OR o.evidence <> n.evidence
),
cleared AS (
    UPDATE accounts_churnsignal s SET cleared_on = %(today)s
    FROM change c WHERE c.account_id IS NULL AND s.id = c.id
    RETURNING 1
),
refreshed AS (
    UPDATE accounts_churnsignal s SET evidence = c.evidence
    FROM change c WHERE c.account_id IS NOT NULL AND s.id = c.id
    RETURNING 1
),
opened AS (
    INSERT INTO accounts_churnsignal (account_id, kind, evidence, detected_on, cleared_on)
    SELECT account_id, kind, evidence, %(today)s, NULL FROM change WHERE id IS NULL
    RETURNING 1
)
SELECT (SELECT count(*) FROM cleared) + (SELECT count(*) FROM refreshed)
       + (SELECT count(*) FROM opened)
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


# What detect_churn_signals' count is, for its JobRun (revopsweb.jobs.run_job).
CHURN_SIGNAL_COUNTS = (
    "signal opened, refreshed or cleared",
    "signals opened, refreshed or cleared",
)


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
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in _SETUP:
            cursor.execute(statement, params)
        for statement in SIGNAL_STATEMENTS:
            if statement in _REVENUE_STATEMENTS and params["rm"] is None:
                continue  # no revenue imported: nothing to compare
            cursor.execute(statement, params)
        cursor.execute(_RECONCILE, params)
        (changed,) = cursor.fetchone()
    return int(changed)
