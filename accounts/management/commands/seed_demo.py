"""Seed a deterministic demo company: staff, accounts, owners, revenue history."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts import demo as accounts_demo
from accounts.demo import DemoContext, DemoStep
from accounts.demo_books import seed_books
from accounts.demo_churn import seed_churn
from accounts.demo_handovers import seed_handovers
from accounts.models import Account
from billing import demo as billing_demo
from billing.demo_adjustments import seed_adjustments
from leads import demo_tasks
from revopsweb.dates import company_today

# The seeding steps, in order. A feature adds its demo data by appending one
# entry (e.g. DemoStep("tasks", leads.demo.seed_tasks, leads.demo.reset_tasks));
# a step reads what earlier ones left in the DemoContext and draws from
# ctx.rng(its name), so appending never changes the data of earlier steps.
# --reset runs the reset functions in reverse order.
STEPS: list[DemoStep] = [
    DemoStep("staff", accounts_demo.seed_staff, accounts_demo.reset_staff),
    DemoStep("accounts", accounts_demo.seed_accounts, accounts_demo.reset_accounts),
    DemoStep("revenue", billing_demo.seed_revenue, billing_demo.reset_revenue),
    DemoStep(
        "adjustments",
        lambda ctx: {
            "credits and consolidations": seed_adjustments(
                rng=ctx.rng("adjustments"), today=ctx.today
            )
        },
    ),
    # Rows of the steps below hang off accounts, so resetting accounts clears
    # them. Churn writes its warning-pattern snapshots before books fills the
    # other accounts' weekly history (both skip weeks that already exist).
    DemoStep(
        "churn", lambda ctx: {"churn rows": seed_churn(rng=ctx.rng("churn"), today=ctx.today)}
    ),
    DemoStep(
        "books",
        lambda ctx: {"plans, notes, snapshots": seed_books(rng=ctx.rng("books"), today=ctx.today)},
    ),
    DemoStep("tasks", demo_tasks.seed_tasks_step, demo_tasks.reset_tasks),
    DemoStep(
        "handovers",
        lambda ctx: {"handover rows": seed_handovers(rng=ctx.rng("handovers"), today=ctx.today)},
    ),
]


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
        started = time.perf_counter()
        timings: list[tuple[str, dict[str, int], float]] = []
        # One transaction: a failed or interrupted seed leaves the database as it was.
        with transaction.atomic():
            if reset:
                for step in reversed(STEPS):
                    if step.reset is not None:
                        step.reset()
            elif Account.objects.exists() or accounts_demo.demo_staff_exists():
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
            for step in STEPS:
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
