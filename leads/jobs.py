"""The leads app's scheduled jobs, as Celery tasks and management commands call them.

Each entry point runs its set-based, idempotent function under
``revopsweb.jobs.run_job`` (advisory lock, one JobRun row per run).
"""

from __future__ import annotations

from revopsweb.dates import company_today
from revopsweb.jobs import run_job
from revopsweb.models import JobRun

from .followups import raise_due_follow_ups
from .reset import reset_month
from .stale import process_stale_tasks
from .time_off import apply_time_off

STALE_JOB = "leads.stale_tasks"
RESET_JOB = "leads.monthly_reset"
TIME_OFF_JOB = "leads.time_off"
FOLLOW_UPS_JOB = "leads.follow_ups"


def _stale() -> int:
    return process_stale_tasks().rows


def run_stale_tasks_job() -> JobRun:
    """Autoclose twice-stale tasks and reassign stale ones (leads.stale)."""
    return run_job(
        STALE_JOB, _stale, counts=("task reassigned or closed", "tasks reassigned or closed")
    )


def run_monthly_reset_job() -> JobRun:
    """Open the company's current month in the round-robin ledger (leads.reset)."""
    return run_job(RESET_JOB, lambda: reset_month(), counts=("member reset", "members reset"))


def _time_off() -> int:
    result = apply_time_off(today=company_today())
    return result.deactivated + result.reactivated


def run_time_off_job() -> JobRun:
    """Switch members off/on by their time off, calibrating returners (leads.time_off)."""
    return run_job(
        TIME_OFF_JOB, _time_off, counts=("member switched off or on", "members switched off or on")
    )


def _follow_ups() -> int:
    return raise_due_follow_ups().rows


def run_follow_ups_job() -> JobRun:
    """Raise due follow-up tasks and end finished nurture periods (leads.followups)."""
    return run_job(
        FOLLOW_UPS_JOB,
        _follow_ups,
        counts=("follow-up raised or nurture ended", "follow-ups raised or nurtures ended"),
    )


def summary(run: JobRun) -> dict[str, object]:
    """A small JSON value for a Celery result or a command's output."""
    return {"job": run.job, "outcome": run.outcome, "rows": run.rows_affected, "id": run.pk}
