from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from billing.summary import rebuild_revenue_summary


class Command(BaseCommand):
    help = (
        "Recompute the revenue summaries (lifecycle components, NDR/GDR sums, movers) of "
        "every month from the revenue history. The pages keep them current incrementally; "
        "this is the full rebuild, e.g. after restoring a dump without them."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        months = rebuild_revenue_summary()
        self.stdout.write(
            f"Revenue summaries rebuilt: {months} months in {time.monotonic() - started:.1f} s."
        )
