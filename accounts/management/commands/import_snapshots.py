from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.imports import import_snapshots
from accounts.management.commands.import_accounts import report


class Command(BaseCommand):
    help = (
        "Import weekly account snapshots from a CSV (all or nothing; upsert by account and week)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and show outcomes.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["file"].read_text(encoding="utf-8-sig")
        result = import_snapshots(text, dry_run=options["dry_run"])
        report(self, result, dry_run=options["dry_run"])
