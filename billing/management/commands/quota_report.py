from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.quota import counted_through
from billing.reports import quota_report
from billing.revenue_data import revenue_data_through
from revopsweb.dates import company_today, parse_quarter


class Command(BaseCommand):
    help = "TAM quota attainment for one quarter."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quarter", required=True, help="YYYYQn, e.g. 2026Q2")
        parser.add_argument("--json", action="store_true", help="Print JSON (stable keys).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            quarter = parse_quarter(options["quarter"])
        except ValueError as exc:
            raise CommandError(f"--quarter: {exc}") from exc
        data = revenue_data_through(today=company_today())
        if not data.has(quarter):
            raise CommandError(
                f"--quarter: {options['quarter']} has no imported month yet. {data.note}"
            )
        report = quota_report(quarter=quarter, through=counted_through(quarter=quarter, data=data))
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        for row in report:
            self.stdout.write(
                f"{row['email']}: quota {row['quota']}, start {row['start_arr']}, "
                f"end {row['end_arr']}, attainment {row['attainment']}"
            )
