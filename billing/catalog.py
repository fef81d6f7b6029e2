"""The product catalog that RevOps edits, and its starting rows."""

from __future__ import annotations

# (key, name, core, counts for the cross-sell multiplier). Core: the three
# primary products of the allocation rules (sales/account-allocation). Cross-sell:
# the eleven primary products of the TAM quota rules (sales/how-we-work).
STARTING_CATALOG: tuple[tuple[str, str, bool, bool], ...] = (
    ("product_analytics", "Product Analytics", False, True),
    ("session_replay", "Session Replay", True, True),
    ("feature_flags", "Feature Flags", True, True),
    ("error_tracking", "Error Tracking", True, True),
    ("surveys", "Surveys", False, True),
    ("ai_observability", "AI Observability", False, True),
    ("data_warehouse", "Data Warehouse", False, True),
    ("cdp_destinations", "CDP Destinations", False, True),
    ("workflows", "Workflows", False, True),
    ("logs", "Logs", False, True),
    ("posthog_ai", "PostHog AI", False, True),
    ("group_analytics", "Group Analytics (add-on)", False, False),
    ("teams", "Teams (add-on)", False, False),
    ("enterprise", "Enterprise (add-on)", False, False),
)


def ensure_product_catalog() -> None:
    """Fill an empty catalog with the starting products.

    Only an empty catalog is filled, so a product RevOps removed or renamed is
    never brought back by a later migrate.
    """
    from .models import Product

    if Product.objects.exists():
        return
    Product.objects.bulk_create(
        Product(
            key=key, name=name, is_core=core, counts_for_cross_sell=cross_sell, sort_order=index
        )
        for index, (key, name, core, cross_sell) in enumerate(STARTING_CATALOG)
    )
