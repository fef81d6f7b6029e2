"""Run every scheduled job once, now: in this process, or queued for the workers."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from revopsweb import schedule


class Command(BaseCommand):
    help = (
        "Run each job of the beat schedule (CELERY_BEAT_SCHEDULE) once, in schedule order, "
        "each recording a JobRun. Jobs are idempotent, so this is always safe. "
        "Exits non-zero when a job fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "tasks",
            nargs="*",
            metavar="TASK",
            help="Only these Celery task names (default: every scheduled job).",
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Send them to the Celery workers instead of running them here.",
        )

    def handle(self, *args: Any, tasks: list[str], queue: bool, **options: Any) -> None:
        unknown = sorted(set(tasks) - set(schedule.scheduled_tasks()))
        if unknown:
            raise CommandError(f"Not a scheduled job: {', '.join(unknown)}.")
        if queue:
            ids = schedule.send_to_workers(tasks)
            self.stdout.write(f"Queued {len(ids)} scheduled jobs for the workers.")
            return
        failed = []
        for result in schedule.run_now(tasks):
            line = f"  {result.task:<40} {result.seconds:6.1f} s  {result.summary()}"
            if result.succeeded:
                self.stdout.write(line)
            else:
                failed.append(result.task)
                self.stdout.write(self.style.ERROR(line))
        if failed:
            raise CommandError(f"{len(failed)} scheduled jobs failed: {', '.join(failed)}.")
