"""Seed a deterministic demo company: staff, accounts, owners, revenue history."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.demo import DemoContext, installed_demo_steps
from accounts.demo_staff import demo_staff_exists
from accounts.models import Account
from revopsweb.dates import company_today


class Command(BaseCommand):
    help = (
        "Seed a deterministic demo company (staff, customer accounts, owners, monthly revenue). "
        "Refuses when accounts exist unless --reset (replace everything) or --if-empty (do nothing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--accounts",
            type=int,
            default=accounts_demo.DEFAULT_ACCOUNTS,
            help="Customer accounts.",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=accounts_demo.DEFAULT_MONTHS,
            help="Months of revenue, ending this month.",
        )
        parser.add_argument(
            "--seed", type=int, default=accounts_demo.DEFAULT_SEED, help="Same seed, same company."
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--reset",
            action="store_true",
            help="Delete all accounts and demo staff first (TRUNCATE).",
        )
        mode.add_argument(
            "--if-empty", action="store_true", help="Exit quietly when accounts already exist."
        )

    def handle(
        self,
        *args: Any,
        accounts: int,
        months: int,
        seed: int,
        reset: bool,
        if_empty: bool,
        **options: Any,
    ) -> None:
        if accounts < 0:
            raise CommandError("--accounts must be 0 or more.")
        if months < 1:
            raise CommandError("--months must be 1 or more.")
        steps = installed_demo_steps()
        started = time.perf_counter()
        timings: list[tuple[str, dict[str, int], float]] = []
        # One transaction: a failed or interrupted seed leaves the database as it was.
        with transaction.atomic():
            if reset:
                for step in reversed(steps):
                    if step.reset is not None:
                        step.reset()
            elif Account.objects.exists() or demo_staff_exists():
                if if_empty:
                    self.stdout.write(
                        "Accounts already exist; seed_demo --if-empty leaves them alone."
                    )
                    return
                raise CommandError(
                    "Accounts already exist. Use --reset to replace all accounts and demo staff, "
                    "or --if-empty to leave them."
                )
            now = timezone.now()
            ctx = DemoContext(
                seed=seed,
                account_count=accounts,
                month_count=months,
                today=company_today(now=now),
                now=now,
            )
            for step in steps:
                step_started = time.perf_counter()
                counts = step.run(ctx)
                timings.append((step.name, counts, time.perf_counter() - step_started))
            commit_started = time.perf_counter()
        commit_seconds = time.perf_counter() - commit_started
        total = time.perf_counter() - started

        if options["verbosity"] < 1:
            return
        self.stdout.write(
            f"Seeded demo company (seed {seed}, {accounts:,} accounts × {months} months):"
        )
        for name, counts, seconds in timings:
            figures = ", ".join(f"{count:,} {label}" for label, count in counts.items())
            self.stdout.write(f"  {name:<10} {seconds:7.2f} s  {figures}")
        self.stdout.write(f"  {'commit':<10} {commit_seconds:7.2f} s")
        self.stdout.write(self.style.SUCCESS(f"Done in {total:.1f} s."))
        self.stdout.write("\n".join(accounts_demo.demo_login_lines()))
