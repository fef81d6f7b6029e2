from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from leads.generation import jobs


class Command(BaseCommand):
    help = "Raise today's product-led and new-business leads from the lead rules. Safe to run twice the same day (the second run raises nothing); records a JobRun."

    def handle(self, *args: Any, **options: Any) -> None:
        # A failure raises (after recording the JobRun), so the exit status is non-zero.
        run = jobs.run_generation_job()
        self.stdout.write(f"{run.job}: {run.get_outcome_display()}, {run.what_it_did}")
