from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.facts import FACT_KINDS


class Command(BaseCommand):
    help = (
        "Import a billing fact kind from a CSV file (header as on its import page and in the "
        "README). Nothing is applied if any row is bad."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=sorted(FACT_KINDS), help="The fact kind.")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row, write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = FACT_KINDS[options["kind"]]
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        result = kind(source="import").run_csv(text, dry_run=options["dry_run"])
        if result.errors:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"{len(result.errors)} error(s); nothing was imported.")
        verb = "Imported" if result.applied else "Would import"
        self.stdout.write(
            f"{kind.label}: {verb.lower()} {result.rows} row(s): {result.created} new, "
            f"{result.updated} updated."
        )
