"""Sales territories and their starting rows."""

from __future__ import annotations

# (name, slug, ownership region). Each territory runs its own round robin
# (sales/overview). RevOps sets the region of the territories left blank.
STARTING_TERRITORIES: tuple[tuple[str, str, str], ...] = (
    ("U.S. West", "us-west", "US"),
    ("U.S. East", "us-east", "US"),
    ("Europe & Africa", "europe-africa", "EU"),
    ("Asia & Middle East", "asia-middle-east", "EU"),
    ("Australia & New Zealand", "australia-new-zealand", "US"),
    ("Territory 1 (U.S. state unknown)", "territory-1", "US"),
    ("Territory 3 (unknown, otherwise qualified)", "territory-3", "US"),
)


def ensure_territories() -> None:
    """Fill an empty territory table with the starting territories. Idempotent."""
    from .models import Territory

    if Territory.objects.exists():
        return
    Territory.objects.bulk_create(
        Territory(name=name, slug=slug, ownership_region=region, sort_order=index)
        for index, (name, slug, region) in enumerate(STARTING_TERRITORIES)
    )
