"""The quick start's database step: migrate, cache table, demo company, job catch-up."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection

from accounts import demo
from accounts.demo_staff import demo_staff_exists
from accounts.models import Account
from revopsweb import schedule


class Command(BaseCommand):
    help = (
        "Prepare the quick start's database, one line per step: migrate, create the cache "
        "table, seed the demo company when there are no accounts, then catch up every scheduled "
        "job once (here when the demo is new, so the first page shows their results; queued for "
        "the worker otherwise). Ends with the demo logins."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=demo.DEFAULT_ACCOUNTS,
            help="Customer accounts of a new demo company.",
        )

    def handle(self, *args: Any, accounts: int, **options: Any) -> None:
        started = time.perf_counter()
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            reason = " ".join(str(exc).split())
            raise CommandError(
                f"Cannot reach the database ({reason}). Check DATABASE_URL: any PostgreSQL 15+ "
                "with an existing database, or unset it for the quick start's embedded server."
            ) from exc
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        self._step(f"Database migrated ({settings.DATABASES['default']['NAME']})", started)

        started = time.perf_counter()
        new = not Account.objects.exists() and not demo_staff_exists()
        if new:
            call_command("seed_demo", accounts=accounts, verbosity=0)
            self._step(
                f"Demo company seeded: {accounts:,} accounts, {demo.DEFAULT_MONTHS} months "
                "of revenue",
                started,
            )
        else:
            self.stdout.write(
                f"  Demo company kept: {Account.objects.count():,} accounts "
                "(seed_demo --reset starts over)"
            )

        started = time.perf_counter()
        if new:
            self.stdout.write("  Catching up the scheduled jobs, each once:")
            failed = []
            for result in schedule.run_now():
                self.stdout.write(
                    f"    {result.task:<40} {result.seconds:5.1f} s  {result.summary()}"
                )
                if not result.succeeded:
                    failed.append(result.task)
            if failed:
                raise CommandError(f"Scheduled jobs failed: {', '.join(failed)} (see Job runs).")
            self._step("Scheduled jobs caught up (the admin lists them under Job runs)", started)
        else:
            count = len(schedule.send_to_workers())
            self.stdout.write(f"  Scheduled jobs catching up: {count} queued for the worker")
        self.stdout.write("\n".join(demo.demo_login_lines()))

    def _step(self, what: str, started: float) -> None:
        self.stdout.write(f"  {what} in {time.perf_counter() - started:.1f} s")
