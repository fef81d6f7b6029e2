"""Trial rules (sales/trials, "Running trials at PostHog").

- Length by deal value: 2 weeks (14 days) by default, which is the $20–60K ARR
  band; 4 weeks (28 days) when the deal is over $60K ARR or a reason the page
  gives is recorded (complex technical environment, multiple stakeholders,
  evaluating alongside other products). A sales-assisted trial below $20K ARR
  is below the sales-assist threshold: route to self-serve, no trial. A
  trial's length is expiry day − start day (a 14-day trial started on the 1st
  expires on the 15th). Billing-admin free usage is not a sales trial: no
  length rule.
- "Day 0": SDK installed and events firing before anything else; until it is
  recorded the trial waits at Day 0 and cannot be won.
- Extensions of 7–30 days, each with why and the "get" (what we ask for in
  return); the trial then expires that many days later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from .models import Trial, TrialKind

SALES_ASSIST_MIN_ARR = Decimal(20_000)
FOUR_WEEK_MIN_ARR = Decimal(60_000)  # "Deal value >$60K ARR"
TWO_WEEKS = 14
FOUR_WEEKS = 28
EXTENSION_MIN_DAYS = 7
EXTENSION_MAX_DAYS = 30
SALES_KINDS = frozenset({TrialKind.SALES_ASSISTED, TrialKind.CROSS_SELL})


def allowed_trial_days(*, deal_arr: Decimal, four_week_reason: str) -> int:
    """Longest trial, in days, for a deal of ``deal_arr`` dollars of ARR: 28 over
    $60K ARR or with a recorded 4-week reason, else 14 (the $20–60K default)."""
    if deal_arr > FOUR_WEEK_MIN_ARR or four_week_reason:
        return FOUR_WEEKS
    return TWO_WEEKS


def trial_length_errors(
    *,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    deal_arr: Decimal | None,
    four_week_reason: str,
) -> dict[str, str]:
    """What breaks the length rules, by field name (empty when the trial is fine)."""
    if kind not in SALES_KINDS:
        return {}
    if deal_arr is None:
        return {"deal_arr": "A sales trial needs the deal value (ARR): it sets the length."}
    if kind == TrialKind.SALES_ASSISTED and deal_arr < SALES_ASSIST_MIN_ARR:
        return {
            "deal_arr": f"${deal_arr:,.0f} ARR is below the sales-assist threshold "
            f"(${SALES_ASSIST_MIN_ARR:,.0f}): route to self-serve, no trial."
        }
    days = (ends_on - starts_on).days
    allowed = allowed_trial_days(deal_arr=deal_arr, four_week_reason=four_week_reason)
    if days > allowed:
        why = (
            "4 weeks"
            if allowed == FOUR_WEEKS
            else "2 weeks unless it is over $60,000 or a 4-week reason is recorded"
        )
        return {
            "ends_on": f"The trial runs {days} days; a ${deal_arr:,.0f} ARR deal gets {why} "
            f"({allowed} days)."
        }
    return {}


def extension_days_error(days: int) -> str | None:
    """Why ``days`` is not a valid extension (7–30 days), or None."""
    if not EXTENSION_MIN_DAYS <= days <= EXTENSION_MAX_DAYS:
        return f"An extension is {EXTENSION_MIN_DAYS} to {EXTENSION_MAX_DAYS} days; got {days}."
    return None


@dataclass(frozen=True)
class TrialState:
    """Where a trial stands on ``today``: ``stage`` is one of upcoming, day_0,
    running, ended, won, lost; ``day`` counts from Day 0 (1 = the day after)."""

    stage: str
    label: str
    expires_on: dt.date
    extension_days: int
    day: int | None
    missing: tuple[str, ...]


def trial_state(*, trial: Trial, extension_days: int, today: dt.date) -> TrialState:
    """The trial's stage, its expiry with extensions, and which must-haves are missing."""
    expires = trial.ends_on + dt.timedelta(days=extension_days)
    missing = []
    if not trial.sdk_live_on:
        missing.append("Day 0: SDK installed and events firing")
    if not trial.success_criteria.strip():
        missing.append("documented success criteria")
    day = (today - trial.sdk_live_on).days if trial.sdk_live_on else None
    if trial.outcome:
        stage, label = trial.outcome, trial.get_outcome_display()
    elif today < trial.starts_on:
        stage, label = "upcoming", f"starts {trial.starts_on:%d %b}"
    elif today >= expires:
        stage, label = "ended", f"expired {expires:%d %b}"
    elif trial.sdk_live_on is None or trial.sdk_live_on > today:
        stage, label = "day_0", "waiting for Day 0 (SDK live)"
    else:
        stage, label = "running", f"day {day}, {(expires - today).days} days left"
    return TrialState(
        stage=stage,
        label=label,
        expires_on=expires,
        extension_days=extension_days,
        day=day,
        missing=tuple(missing),
    )
