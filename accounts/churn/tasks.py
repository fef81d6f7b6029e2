from __future__ import annotations

from typing import Any

from celery import shared_task

from revopsweb.jobs import run_job

from .backtest import warm_backtest
from .signals import CHURN_SIGNAL_COUNTS, detect_churn_signals


@shared_task
def detect_churn_signals_task() -> dict[str, Any]:
    """Nightly: recompute churn signals for every account (set-based, idempotent)."""
    run = run_job("detect_churn_signals", detect_churn_signals, counts=CHURN_SIGNAL_COUNTS)
    # The backtest page reads the new signals from a cache warmed here, not by
    # the first manager to open it.
    warm_backtest()
    return {"outcome": run.outcome, "rows": run.rows_affected}
