from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.imports import import_mrr_csv


class Command(BaseCommand):
    help = (
        "Import monthly revenue from a CSV file (organization_id,product,month,amount). "
        "Nothing is applied if any row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        result = import_mrr_csv(text=text, dry_run=options["dry_run"])
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(result.errors)} error(s); nothing was imported.")
        verb = "Would import" if not result.applied else "Imported"
        self.stdout.write(
            f"{verb} {result.rows} row(s): {result.created} new, {result.updated} updated."
        )
