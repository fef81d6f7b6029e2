from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.churn.backtest import warm_backtest
from accounts.churn.signals import CHURN_SIGNAL_COUNTS, detect_churn_signals
from revopsweb.jobs import run_job


class Command(BaseCommand):
    help = "Recompute churn early-warning signals for every account (the nightly job)."

    def handle(self, *args: Any, **options: Any) -> None:
        run = run_job("detect_churn_signals", detect_churn_signals, counts=CHURN_SIGNAL_COUNTS)
        warm_backtest()
        self.stdout.write(f"detect_churn_signals: {run.outcome}, {run.what_it_did}")
