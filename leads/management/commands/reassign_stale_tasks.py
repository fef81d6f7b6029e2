from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leads import jobs


class Command(BaseCommand):
    help = "Reassign tasks untouched for STALE_TASK_DAYS via the round robin; autoclose them after a second stale period. Safe to run twice; records a JobRun."

    def handle(self, *args: Any, **options: Any) -> None:
        # A failure raises (after recording the JobRun), so the exit status is non-zero.
        run = jobs.run_stale_tasks_job()
        self.stdout.write(f"{run.job}: {run.get_outcome_display()}, {run.what_it_did}")
