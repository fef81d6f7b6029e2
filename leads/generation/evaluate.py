"""Which accounts each lead rule raises today, set-based in PostgreSQL.

One statement builds a temporary table of every account's facts (revenue of
the latest month with revenue data, paying streak, per-product spend, latest
usage snapshot, support tickets, last invoice, startup credits, contacts, open
tasks); then each rule is one ``SELECT`` over it with its thresholds as
parameters. The number of queries is fixed (4 + one per rule) whatever the
number of accounts.

Revenue: "MRR" is the account's revenue in month M, the month revenue data is
in through (``billing.revenue_data.revenue_data_through``: a month with no data
is not in yet, so it is never read as zero, and a month in progress never
counts); ARR is MRR × 12. The paying streak counts consecutive months with
revenue ending at M. Users are the latest weekly snapshot's active users
(30 days), else the account's own field.

A rule never raises an account that has an open task of that rule, a task of
that rule created today (so a rerun the same day raises nothing), or one
closed (disqualified or converted) within the rule's cool-down.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg.types.json import set_json_loads

from accounts.models import Plan
from billing.models import PAID_PRODUCT_MIN
from billing.revenue_data import revenue_data_through
from leads.models import OPEN_STATUSES
from leads.scoring import SECOND_COUNTRIES, TOP_COUNTRIES
from revopsweb.dates import add_months, company_today, month_start

from . import catalog as c

# sales/product-led-lead-qualification, "Quick filters to deprioritize".
DEPRIORITISE_MRR_UNDER = Decimal(500)
DEPRIORITISE_GROWTH_MONTHS = 3
DEPRIORITISE_CREDIT_MONTHS = 12
# Revenue history read for the paying streak (bits of a bigint, and the
# months-back arithmetic of _FACTS is exact below 30 months).
STREAK_MONTHS = 24


@dataclass(frozen=True)
class RuleInForce:
    """A rule with the thresholds of the version in force (or a draft to preview)."""

    key: str
    lead_type: str
    version: int
    thresholds: dict[str, Any]
    cooldown_days: int
    is_active: bool = True


@dataclass(frozen=True)
class Hit:
    """One account a rule raises: the values that made it fire and the suggestion."""

    account_id: int
    account_name: str
    rule: str
    version: int
    lead_type: str
    values: dict[str, Any]
    deprioritise: list[str] = field(default_factory=list)

    def facts(self) -> dict[str, Any]:
        """The JSON stored on the task (``Task.rule_facts``)."""
        return {
            "rule": self.rule,
            "version": self.version,
            "values": self.values,
            "deprioritise": self.deprioritise,
        }


_FACTS = """
CREATE TEMP TABLE leadgen_facts ON COMMIT DROP AS
WITH rev AS (
    -- One pass over the revenue rows: M's total, products and largest
    -- product, the growth base, and a bitmask of paid months (bit n = M - n),
    -- whose trailing ones are the paying streak ending at M.
    SELECT account_id,
           sum(amount) FILTER (WHERE month = %(m)s) AS mrr,
           count(*) FILTER (WHERE month = %(m)s AND amount > 0) AS products,
           max(amount) FILTER (WHERE month = %(m)s) AS top_product,
           sum(amount) FILTER (WHERE month = %(m_growth)s) AS growth_base,
           -- Months back from M by integer arithmetic on the day count (a
           -- month start n months earlier is 28n..31n days back, so
           -- (days + 15) / 30 is exactly n for n < 30; STREAK_MONTHS is 24):
           -- age() and extract() per row cost twice as much at 100,000 accounts.
           bit_or(1::bigint << ((%(m)s::date - month + 15) / 30))
               FILTER (WHERE amount > 0) AS paid_mask
    FROM billing_monthlyrevenue
    WHERE month >= %(m_from)s AND month <= %(m)s
    GROUP BY account_id
),
snap AS (
    SELECT account_id,
           (array_agg(active_users_30d ORDER BY week DESC)
                FILTER (WHERE active_users_30d IS NOT NULL))[1] AS users,
           coalesce(sum(events), 0) AS events,
           max(week) FILTER (WHERE support_tickets > 0) AS last_ticket_week
    FROM accounts_accountsnapshot
    WHERE week <= %(today)s
    GROUP BY account_id
),
ticket AS (
    SELECT account_id, max(occurred_at) AS last_ticket_at
    FROM accounts_activity
    WHERE kind = 'support_ticket' AND occurred_at <= %(now)s
    GROUP BY account_id
),
inv AS (
    SELECT i.account_id,
           (array_agg(i.amount ORDER BY i.issued_on DESC, i.id DESC))[1] AS last_invoice,
           max(i.issued_on) AS last_invoice_on,
           coalesce(sum(i.amount) FILTER (
               WHERE a.credit_expires_on IS NOT NULL
                 AND i.issued_on >= (a.credit_expires_on - make_interval(months => %(term)s::int))::date
           ), 0) AS credit_invoiced
    FROM billing_invoice i
    JOIN accounts_account a ON a.id = i.account_id
    WHERE i.status <> 'void' AND i.issued_on <= %(today)s
    GROUP BY i.account_id
),
people AS (
    SELECT account_id, count(*) AS contacts
    FROM accounts_contact
    WHERE left_company_on IS NULL
    GROUP BY account_id
),
busy AS (
    SELECT account_id, count(*) AS open_tasks
    FROM leads_task
    WHERE status = ANY(%(open)s)
    GROUP BY account_id
)
SELECT a.id AS account_id, a.name, upper(a.country) AS country, a.employee_count, a.plan,
       a.am_managed, a.domain, a.credit_balance, a.credit_expires_on, a.forecasted_mrr,
       (a.created_at AT TIME ZONE %(tz)s)::date AS created_on,
       coalesce(r.mrr, 0) AS mrr,
       coalesce(r.products, 0) AS products,
       coalesce(r.top_product, 0) AS top_product,
       coalesce(r.growth_base, 0) AS mrr_growth_base,
       -- Trailing ones of x: log2((x XOR (x + 1)) + 1) - 1. The argument is an
       -- exact power of two, so the double-precision log rounds to it (a
       -- numeric log per account cost seconds at 100,000 accounts).
       coalesce(round(ln(((r.paid_mask # (r.paid_mask + 1)) + 1)::float8) / ln(2))::int - 1, 0)
           AS paying_months,
       coalesce(sn.users, a.active_users_30d) AS users,
       coalesce(sn.events, 0) AS events,
       -- A snapshot's tickets were raised within its week (Monday + 6 days);
       -- least() and greatest() skip NULLs, hence the CASE.
       greatest(CASE WHEN sn.last_ticket_week IS NOT NULL
                     THEN least(sn.last_ticket_week + 6, %(today)s) END,
                (t.last_ticket_at AT TIME ZONE %(tz)s)::date) AS last_ticket_on,
       inv.last_invoice, inv.last_invoice_on, coalesce(inv.credit_invoiced, 0) AS credit_invoiced,
       coalesce(p.contacts, 0) AS contacts,
       coalesce(b.open_tasks, 0) AS open_tasks,
       (CASE WHEN a.employee_count IS NULL OR a.employee_count <= 10 THEN 0
             WHEN a.employee_count <= 1000 THEN 10 ELSE 20 END)
     + (CASE WHEN upper(a.country) = ANY(%(top)s) THEN 10
             WHEN upper(a.country) = ANY(%(second)s) THEN 5 ELSE 0 END) AS icp_score
FROM accounts_account a
LEFT JOIN rev r ON r.account_id = a.id
LEFT JOIN snap sn ON sn.account_id = a.id
LEFT JOIN ticket t ON t.account_id = a.id
LEFT JOIN inv ON inv.account_id = a.id
LEFT JOIN people p ON p.account_id = a.id
LEFT JOIN busy b ON b.account_id = a.id
"""

# Per rule: the WHERE condition over leadgen_facts f and the values shown on
# the task. %(x)s are the rule's thresholds (and the shared day parameters).
_CONDITIONS: dict[str, str] = {
    c.PL_MRR_BAND: """
        %(has_revenue)s AND f.mrr >= %(mrr_min)s AND f.mrr <= %(mrr_max)s
        AND f.employee_count > %(employees_over)s::int AND f.users > %(users_over)s::int
        AND f.country = ANY(%(countries)s) AND f.paying_months >= %(paying_months_min)s
    """,
    c.PL_ICP_SCALE: "f.icp_score >= %(icp_score_min)s AND f.plan = ANY(%(plans)s)",
    c.PL_FORECAST_JUMP: """
        %(has_revenue)s AND f.mrr > %(mrr_over)s
        AND f.forecasted_mrr > f.mrr * (1 + %(increase_over_pct)s / 100.0)
    """,
    c.PL_UNMANAGED_TICKET: """
        %(has_revenue)s AND NOT f.am_managed AND f.mrr * 12 > %(arr_over)s
        AND f.last_ticket_on >= %(today)s - %(ticket_days)s::int
    """,
    c.NB_FIRST_SIGNUP: """
        f.employee_count >= %(employees_min)s AND f.events >= %(events_min)s
        AND f.contacts - 1 >= %(invited_min)s AND f.created_on >= %(today)s - %(signup_days)s::int
        AND NOT EXISTS (
            SELECT 1 FROM accounts_account older
            WHERE f.domain <> '' AND lower(older.domain) = lower(f.domain)
              AND older.id < f.account_id
        )
    """,
    c.NB_CREDITS_USED: """
        f.plan = %(startup)s AND f.credit_expires_on >= %(today)s
        AND f.last_invoice > %(last_invoice_over)s AND f.credit_invoiced > 0
        AND f.credit_invoiced * 100 >= %(used_min_pct)s * (f.credit_invoiced + f.credit_balance)
    """,
    c.NB_ROLLOFF_100_DAYS: """
        f.plan = %(startup)s AND f.credit_expires_on >= %(today)s
        AND f.credit_expires_on <= %(today)s + %(within_days)s::int
        AND f.last_invoice >= %(last_invoice_min)s AND f.last_invoice <= %(last_invoice_max)s
    """,
    c.NB_ROLLOFF_2_MONTHS: """
        f.plan = %(startup)s AND f.credit_expires_on >= %(today)s
        AND f.credit_expires_on <= (%(today)s + make_interval(months => %(within_months)s::int))::date
        AND f.last_invoice > %(last_invoice_over)s
    """,
}

# What each rule shows as "the values that made it fire".
VALUE_KEYS: dict[str, tuple[str, ...]] = {
    c.PL_MRR_BAND: ("mrr", "month", "employee_count", "users", "country", "paying_months"),
    c.PL_ICP_SCALE: ("icp_score", "plan", "employee_count", "country"),
    c.PL_FORECAST_JUMP: ("mrr", "month", "forecasted_mrr", "increase_pct"),
    c.PL_UNMANAGED_TICKET: ("arr", "mrr", "month", "last_ticket_on"),
    c.NB_FIRST_SIGNUP: ("employee_count", "events", "invited", "created_on", "domain"),
    c.NB_CREDITS_USED: ("used_pct", "credit_invoiced", "credit_balance", "last_invoice"),
    c.NB_ROLLOFF_100_DAYS: ("credit_expires_on", "days_left", "last_invoice", "last_invoice_on"),
    c.NB_ROLLOFF_2_MONTHS: ("credit_expires_on", "days_left", "last_invoice", "last_invoice_on"),
}

_SELECT = """
SELECT f.account_id, f.name, to_jsonb(f) - 'name' AS facts
FROM leadgen_facts f
WHERE {condition}
  AND NOT EXISTS (
      SELECT 1 FROM leads_task t
      WHERE t.account_id = f.account_id AND t.lead_rule = %(rule)s
        AND (t.status = ANY(%(open)s)
             OR t.created_at >= %(day_start)s
             OR t.closed_at > %(cooldown_since)s)
  )
ORDER BY f.account_id
"""


def _threshold_params(rule: RuleInForce) -> dict[str, Any]:
    definition = c.RULES_BY_KEY[rule.key]
    params: dict[str, Any] = {}
    for threshold in definition.thresholds:
        value = rule.thresholds.get(threshold.name, threshold.default)
        if threshold.kind in ("money", "percent"):
            value = Decimal(str(value))
        elif threshold.kind == "int":
            value = int(value)
        else:
            value = [str(v).upper() if threshold.kind == "countries" else str(v) for v in value]
        params[threshold.name] = value
    return params


def _values(
    key: str, facts: dict[str, Any], *, month: dt.date | None, today: dt.date
) -> dict[str, Any]:
    derived: dict[str, Any] = dict(facts)
    mrr = Decimal(str(facts.get("mrr") or 0))
    derived["month"] = f"{month:%Y-%m}" if month else None
    derived["arr"] = mrr * 12
    forecast = facts.get("forecasted_mrr")
    derived["increase_pct"] = (
        round((Decimal(str(forecast)) / mrr - 1) * 100, 1) if forecast is not None and mrr else None
    )
    derived["invited"] = max(int(facts.get("contacts") or 0) - 1, 0)
    invoiced = Decimal(str(facts.get("credit_invoiced") or 0))
    balance = Decimal(str(facts.get("credit_balance") or 0))
    derived["used_pct"] = (
        round(invoiced * 100 / (invoiced + balance), 1) if invoiced + balance else None
    )
    expires = facts.get("credit_expires_on")
    derived["days_left"] = (dt.date.fromisoformat(expires) - today).days if expires else None
    return {name: _plain(derived.get(name)) for name in VALUE_KEYS[key]}


def _plain(value: Any) -> Any:
    """JSON-safe: money and other decimals as strings with two places."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    first = add_months(month_start(day), months)
    last_day = (add_months(first, 1) - dt.timedelta(days=1)).day
    return first.replace(day=min(day.day, last_day))


def deprioritise_filters(facts: dict[str, Any], *, today: dt.date) -> list[str]:
    """The product-led quick filters that match (sales/product-led-lead-qualification).

    Each is a reason to suggest passing on the lead rather than working it.
    """
    found: list[str] = []
    mrr = Decimal(str(facts.get("mrr") or 0))
    base = Decimal(str(facts.get("mrr_growth_base") or 0))
    if mrr < DEPRIORITISE_MRR_UNDER and mrr <= base:
        found.append(
            f"MRR ${mrr:,.2f} is under ${DEPRIORITISE_MRR_UNDER:,.0f} with no growth "
            f"(${base:,.2f} {DEPRIORITISE_GROWTH_MONTHS} months earlier)"
        )
    top = Decimal(str(facts.get("top_product") or 0))
    if int(facts.get("products") or 0) == 1 and top < PAID_PRODUCT_MIN:
        found.append(f"all spend is one product under ${PAID_PRODUCT_MIN:,.0f} (${top:,.2f})")
    expires = facts.get("credit_expires_on")
    if (
        facts.get("plan") == Plan.STARTUP
        and expires
        and dt.date.fromisoformat(expires) >= shift_months(today, DEPRIORITISE_CREDIT_MONTHS)
    ):
        found.append(
            f"startup credits run {DEPRIORITISE_CREDIT_MONTHS}+ more months (to {expires})"
        )
    # Open tasks of the rule itself never reach here (they exclude the account).
    if int(facts.get("open_tasks") or 0) > 0:
        found.append("already being worked: the account has another open task")
    return found


@transaction.atomic
def find_hits(
    *, rules: Sequence[RuleInForce], now: dt.datetime | None = None
) -> dict[str, list[Hit]]:
    """Per rule key, the accounts it raises at ``now`` (company date), in account order.

    Reads only; 4 + one query per active rule. Inactive rules are skipped.
    """
    now = now or timezone.now()
    today = company_today(now=now)
    day_start = timezone.make_aware(
        dt.datetime.combine(today, dt.time.min), timezone.get_default_timezone()
    )
    # A month in progress is never M, however much of it is imported already.
    month = revenue_data_through(today=today).month
    m = month or month_start(today)
    shared: dict[str, Any] = {
        "today": today,
        "now": now,
        "tz": settings.TIME_ZONE,
        "m": m,
        "m_from": add_months(m, -(STREAK_MONTHS - 1)),
        "m_growth": add_months(m, -DEPRIORITISE_GROWTH_MONTHS),
        "term": c.STARTUP_CREDIT_TERM_MONTHS,
        "open": [str(s) for s in OPEN_STATUSES],
        "top": sorted(TOP_COUNTRIES),
        "second": sorted(SECOND_COUNTRIES),
        "has_revenue": month is not None,
        "startup": Plan.STARTUP.value,
        "day_start": day_start,
    }
    hits: dict[str, list[Hit]] = {}
    with connection.cursor() as cursor:
        # Money in the facts stays Decimal, not float.
        set_json_loads(partial(json.loads, parse_float=Decimal), cursor.cursor)
        cursor.execute("DROP TABLE IF EXISTS leadgen_facts")
        # The per-account aggregates stay in memory at 100,000 accounts.
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(_FACTS, shared)
        cursor.execute("ANALYZE leadgen_facts")
        for rule in rules:
            if not rule.is_active:
                continue
            params = {
                **shared,
                **_threshold_params(rule),
                "rule": rule.key,
                "cooldown_since": now - dt.timedelta(days=rule.cooldown_days),
            }
            cursor.execute(_SELECT.format(condition=_CONDITIONS[rule.key]), params)
            found = []
            for account_id, name, facts in cursor.fetchall():
                found.append(
                    Hit(
                        account_id=account_id,
                        account_name=name,
                        rule=rule.key,
                        version=rule.version,
                        lead_type=rule.lead_type,
                        values=_values(rule.key, facts, month=month, today=today),
                        deprioritise=deprioritise_filters(facts, today=today),
                    )
                )
            hits[rule.key] = found
        cursor.execute("DROP TABLE IF EXISTS leadgen_facts")
    return hits
