from __future__ import annotations

from celery import shared_task

from revopsweb.dates import company_today
from revopsweb.jobs import run_job

from .cache import warm_revenue_cache


@shared_task
def refresh_revenue_cache() -> dict[str, object]:
    """Hourly and after each import: the revenue summaries refreshed from what changed."""
    run = run_job(
        "billing.refresh_revenue_cache",
        lambda: warm_revenue_cache(today=company_today()),
    )
    return {"outcome": run.outcome, "rows": run.rows_affected}
