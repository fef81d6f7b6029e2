"""Monthly revenue history of the demo company (a step of ``seed_demo``).

Turns the account profiles left by ``accounts.demo.seed_accounts`` into one
MonthlyRevenue row per account, product and paying month: a product mix per
account, growth, churn and reactivation from the profile, month-to-month
noise and the odd one-month spike.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from accounts.demo import (
    REACTIVATED_LEVEL,
    AccountProfile,
    DemoContext,
    DemoStep,
    insert_rows,
    truncate,
)
from accounts.models import Plan

from .catalog import ensure_product_catalog
from .models import MonthlyRevenue, Product

# product key: (share of paying accounts using it, relative spend when used).
# Product analytics is nearly universal, the three core products common, the
# rest and the add-ons rarer.
_PRODUCT_MIX: dict[str, tuple[float, float]] = {
    "product_analytics": (0.92, 1.0),
    "session_replay": (0.55, 0.8),
    "feature_flags": (0.45, 0.4),
    "error_tracking": (0.30, 0.35),
    "surveys": (0.15, 0.15),
    "data_warehouse": (0.10, 0.4),
    "ai_observability": (0.08, 0.3),
    "cdp_destinations": (0.08, 0.2),
    "posthog_ai": (0.07, 0.1),
    "logs": (0.06, 0.3),
    "workflows": (0.05, 0.15),
    "group_analytics": (0.10, 0.15),
    "teams": (0.08, 0.1),
}
_CORE_KEYS = ("session_replay", "feature_flags", "error_tracking")  # billing.catalog's core
_FORCED_CORE_WEIGHT = 2.0
# Above the $200 a month a product needs to count as paid for (accounts.segments).
_FORCED_CORE_FLOOR = 250.0
# Enterprise is only bought by large accounts.
_ENTERPRISE_KEY = "enterprise"
_ENTERPRISE_MIN_MRR = 4_000.0
_ENTERPRISE_SHARE = 0.35
_CROSS_SELL_SHARE = 0.25  # products adopted after the account's first paid month
_SPIKE_SHARE = 0.04  # accounts with one unusually large month
_NOISE = 0.08  # month-to-month variation, as a fraction
_REVENUE_FIELDS = ("account_id", "product_id", "month", "amount")


def seed_revenue(ctx: DemoContext) -> dict[str, int]:
    """Write the monthly revenue of every profiled account in ``ctx.profiles``.

    Not idempotent: expects an empty MonthlyRevenue table for these accounts.
    """
    ensure_product_catalog()
    products = dict(Product.objects.filter(is_active=True).values_list("key", "pk"))
    rows = _revenue_rows(ctx.rng("revenue"), ctx=ctx, products=products)
    return {
        "monthly revenue rows": insert_rows(model=MonthlyRevenue, fields=_REVENUE_FIELDS, rows=rows)
    }


def reset_revenue() -> None:
    """Delete every MonthlyRevenue row. Idempotent."""
    truncate(MonthlyRevenue)


def _draw_mix(
    rng: random.Random, *, profile: AccountProfile, products: dict[str, int], month_count: int
) -> list[tuple[int, float, int, float]]:
    """(product id, share of the account's spend, first month billed, floor in
    dollars) per product used. The floor is 0 except for the core products of a
    handover candidate, which must count as paid for however small the account."""
    assert profile.start is not None
    forced = set(_CORE_KEYS[: profile.core_products]) if profile.core_products is not None else None
    picked = [
        (products[key], weight)
        for key, (share, weight) in _PRODUCT_MIX.items()
        if key in products and (forced is None or key not in _CORE_KEYS) and rng.random() < share
    ]
    if forced is not None:
        # A handover candidate (accounts.demo_accounts): its core products paid from
        # its first month, with weight enough to pass the paid-product minimum.
        picked += [
            (products[key], _FORCED_CORE_WEIGHT) for key in sorted(forced) if key in products
        ]
    if (
        profile.base_mrr >= _ENTERPRISE_MIN_MRR
        and _ENTERPRISE_KEY in products
        and rng.random() < _ENTERPRISE_SHARE
    ):
        picked.append((products[_ENTERPRISE_KEY], 0.5))
    if not picked:
        fallback = (
            "product_analytics" if "product_analytics" in products else next(iter(products), None)
        )
        if fallback is None:
            return []
        picked.append((products[fallback], 1.0))
    weights = [weight * rng.uniform(0.5, 1.5) for _, weight in picked]
    total = sum(weights)
    mix = []
    forced_ids = {products[key] for key in forced or () if key in products}
    for position, ((product_id, _), weight) in enumerate(zip(picked, weights, strict=True)):
        # The first product is what the account started paying for.
        first = profile.start
        if position and product_id not in forced_ids and rng.random() < _CROSS_SELL_SHARE:
            first = rng.randint(profile.start, month_count - 1)
        floor = _FORCED_CORE_FLOOR if product_id in forced_ids else 0.0
        mix.append((product_id, weight / total, first, floor))
    return mix


def _revenue_rows(
    rng: random.Random, *, ctx: DemoContext, products: dict[str, int]
) -> Iterator[tuple[int, int, object, Decimal]]:
    """MonthlyRevenue rows in ``_REVENUE_FIELDS`` order, account by account.

    A generator: at 100,000 accounts there are millions of rows, streamed
    straight into COPY.
    """
    months = ctx.months
    month_count = ctx.month_count
    uniform = rng.uniform
    for profile in ctx.profiles:
        if profile.start is None or not products:
            continue
        account_id = profile.account_id
        mix = _draw_mix(rng, profile=profile, products=products, month_count=month_count)
        spike = rng.randint(profile.start, month_count - 1) if rng.random() < _SPIKE_SHARE else None
        spike_factor = uniform(2.0, 5.0)
        noise = 0.0 if profile.plan == Plan.ANNUAL else _NOISE
        factor = 1 + profile.growth
        level = profile.base_mrr
        for month in range(profile.start, month_count):
            if month > profile.start:
                level *= factor
            if not profile.is_paying(month):
                continue
            amount = level * (1 + uniform(-noise, noise)) if noise else level
            if profile.reactivate is not None and month >= profile.reactivate:
                amount *= REACTIVATED_LEVEL
            if month == spike:
                amount *= spike_factor
            for product_id, share, first, floor in mix:
                if month >= first:
                    cents = round(max(amount * share, floor) * 100)
                    if cents > 0:
                        yield account_id, product_id, months[month], Decimal(cents).scaleb(-2)


def demo_steps() -> list[DemoStep]:
    """Billing's seed_demo steps: monthly revenue, then credits and consolidations."""
    from .demo_adjustments import seed_adjustments
    from .demo_dunning import seed_dunning
    from .demo_terms import seed_terms_step

    return [
        DemoStep("revenue", seed_revenue, reset_revenue, order=30),
        DemoStep(
            "adjustments",
            lambda ctx: {
                "credits and consolidations": seed_adjustments(
                    rng=ctx.rng("adjustments"), today=ctx.today
                )
            },
            order=40,
        ),
        # After the lead rules (200), which type credit and forecast columns too.
        DemoStep("billing terms", seed_terms_step, order=210),
        # After the lead rules' invoices (200): failed payments and dunning.
        DemoStep("invoices and dunning", seed_dunning, order=220),
    ]
