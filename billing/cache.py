"""Caching of the revenue page's computations.

Lifecycle and retention over the whole company take seconds at 100,000
accounts, and the numbers only change when revenue is imported. Results are
cached under a data version that every applied import (and every credit or
consolidation saved in the admin) bumps; other inputs (an account's trial flag
or annual discount, edited elsewhere) show up when the entry expires.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache import cache

VERSION_KEY = "billing:revenue:version"
TIMEOUT_SECONDS = 15 * 60


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
