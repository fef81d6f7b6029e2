"""Caching of the revenue page's computations.

Lifecycle and retention over the whole company take seconds at 100,000
accounts, and the numbers only change when revenue is imported. Results are
cached under a data version that every applied import (and every credit or
consolidation saved in the admin) bumps. The hourly ``refresh_revenue_cache``
job bumps it too, so other inputs (an account's trial flag or annual discount,
edited elsewhere) show within the hour, and recomputes the current month so
people rarely wait for a cold computation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from django.core.cache import cache

from .lifecycle import MonthComponents, Mover, biggest_movers, lifecycle_components
from .months import month_start
from .quota import latest_revenue_month

VERSION_KEY = "billing:revenue:version"
TIMEOUT_SECONDS = 2 * 60 * 60  # the hourly refresh replaces entries well before this


def revenue_data_version() -> int:
    return int(cache.get_or_set(VERSION_KEY, 1, timeout=None) or 1)


def bump_revenue_data_version() -> None:
    """Invalidate every cached revenue computation. Safe to call any number of times."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def cached[T](name: str, compute: Callable[[], T]) -> T:
    """``compute()``, cached for ``TIMEOUT_SECONDS`` under ``name`` and the data version."""
    key = f"billing:revenue:{revenue_data_version()}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=TIMEOUT_SECONDS)
    return value


def page_components(*, through: dt.date, adjusted: bool) -> list[MonthComponents]:
    """The revenue page's 18 + 1 months of total-level components."""
    return cached(
        f"components:{through}:{adjusted}",
        partial(lifecycle_components, through=through, adjusted=adjusted),
    )


def page_products(*, through: dt.date, adjusted: bool) -> list[MonthComponents]:
    """Per-product components of ``through``."""
    return cached(
        f"products:{through}:{adjusted}",
        partial(
            lifecycle_components, through=through, months=1, adjusted=adjusted, by_product=True
        ),
    )


def page_movers(*, through: dt.date, adjusted: bool) -> tuple[list[Mover], list[Mover]]:
    return cached(
        f"movers:{through}:{adjusted}", partial(biggest_movers, month=through, adjusted=adjusted)
    )


def warm_revenue_cache(*, today: dt.date) -> int:
    """Start a new data version and compute the latest month's page, both bases.

    Idempotent; returns the number of computations cached (6).
    """
    bump_revenue_data_version()
    through = latest_revenue_month() or month_start(today)  # what the page shows by default
    for adjusted in (True, False):
        page_components(through=through, adjusted=adjusted)
        page_products(through=through, adjusted=adjusted)
        page_movers(through=through, adjusted=adjusted)
    return 6
