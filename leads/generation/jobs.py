"""The lead rules' scheduled jobs, as Celery tasks and management commands call them."""

from __future__ import annotations

from revopsweb.jobs import run_job
from revopsweb.models import JobRun

from .generate import generate_leads

GENERATE_JOB = "leads.generate_leads"


def _generate() -> int:
    return generate_leads().created


def run_generation_job() -> JobRun:
    """Raise today's leads of every active rule (leads.generation.generate)."""
    return run_job(GENERATE_JOB, _generate, counts=("lead created", "leads created"))
