from __future__ import annotations

from celery import shared_task

from revopsweb.jobs import run_job

from .summary import refresh_revenue_summary


@shared_task
def refresh_revenue_cache() -> dict[str, object]:
    """Hourly and after each import: the revenue summaries refreshed from what changed."""
    run = run_job(
        "billing.refresh_revenue_cache",
        refresh_revenue_summary,
        counts=("month recomputed", "months recomputed"),
    )
    return {"outcome": run.outcome, "rows": run.rows_affected}
