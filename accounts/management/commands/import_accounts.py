from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.imports import ImportResult, import_accounts


def report(command: BaseCommand, result: ImportResult, *, dry_run: bool) -> None:
    """Print each row's outcome, then every error; raise when anything was invalid."""
    for line, key, outcome in result.outcomes:
        command.stdout.write(f"line {line}: {key}: {outcome}")
    if result.errors:
        for error in result.errors:
            command.stderr.write(str(error))
        raise CommandError(f"{len(result.errors)} error(s); nothing was applied.")
    verb = "would apply" if dry_run else "applied"
    command.stdout.write(command.style.SUCCESS(f"{len(result.outcomes)} row(s) {verb}."))


class Command(BaseCommand):
    help = "Import accounts from a CSV (all or nothing; upsert by organization_id)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and show outcomes.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["file"].read_text(encoding="utf-8-sig")
        result = import_accounts(
            text,
            dry_run=options["dry_run"],
            changed_by=None,
            progress=lambda done, total: self.stderr.write(f"applied {done}/{total} rows"),
        )
        report(self, result, dry_run=options["dry_run"])
