from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.reports import revenue_report
from billing.revenue_data import revenue_data_through
from revopsweb.dates import company_today, parse_month


class Command(BaseCommand):
    help = "Lifecycle components, rates and NDR/GDR of one month."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--adjusted", action="store_true", help="Use adjusted revenue.")
        parser.add_argument("--json", action="store_true", help="Print JSON (stable keys).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = parse_month(options["month"])
        except ValueError as exc:
            raise CommandError(f"--month: {exc}") from exc
        data = revenue_data_through(today=company_today())
        if not data.has(month):
            raise CommandError(f"--month: {month:%B %Y} is not imported yet. {data.note}")
        report = revenue_report(month=month, adjusted=options["adjusted"])
        if options["json"]:
            self.stdout.write(json.dumps(report))
            return
        for key, value in report.items():
            self.stdout.write(f"{key}: {value}")
