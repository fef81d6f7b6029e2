"""Caching of the revenue page's computations.

Lifecycle and retention over the whole company take seconds at 100,000
accounts, and the numbers only change when revenue is imported. Results are
cached under a data version that every applied import (and every credit or
consolidation saved in the admin) bumps. The hourly ``refresh_revenue_cache``
job bumps it too, so other inputs (an account's trial flag or annual discount,
edited elsewhere) show within the hour, and recomputes the whole history so
people rarely wait for a cold computation, whichever month they look at.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from django.core.cache import cache

from revopsweb.dates import add_months, month_range

from .lifecycle import (
    HISTORY_MONTHS,
    MonthComponents,
    Mover,
    biggest_movers,
    empty_components,
    lifecycle_components,
)
from .revenue_data import first_revenue_month, revenue_data_through

VERSION_KEY = "billing:revenue:version"
TIMEOUT_SECONDS = 2 * 60 * 60  # the hourly refresh replaces entries well before this
PAGE_MONTHS = HISTORY_MONTHS + 1


def revenue_data_version() -> int:
    return int(cache.get_or_set(VERSION_KEY, 1, timeout=None) or 1)


def bump_revenue_data_version() -> None:
    """Invalidate every cached revenue computation. Safe to call any number of times."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def _key(name: str) -> str:
    """``name`` under the current data version (a bumped version misses every old entry)."""
    return f"billing:revenue:{revenue_data_version()}:{name}"


def cached[T](name: str, compute: Callable[[], T]) -> T:
    """``compute()``, cached for ``TIMEOUT_SECONDS`` under ``name`` and the data version."""
    key = _key(name)
    value: T | None = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, timeout=TIMEOUT_SECONDS)
    return value


def cached_only[T](name: str) -> T | None:
    """What ``cached(name, …)`` holds under the current data version, without computing."""
    value: T | None = cache.get(_key(name))
    return value


def _history_name(kind: str, *, latest: dt.date, adjusted: bool) -> str:
    return f"{kind}-history:{latest}:{adjusted}"


def history(*, kind: str, latest: dt.date, adjusted: bool) -> list[MonthComponents]:
    """Components of every month from the first with revenue through ``latest``.

    A month's components depend only on revenue up to the month after it, not
    on the window asked for (``lifecycle_components`` looks back as far as it
    needs), so any page's months are a slice of this one computation: paging
    back through history costs nothing once it is cached. ``kind`` is
    "components" (company totals) or "products" (per product).
    """

    def compute() -> list[MonthComponents]:
        first = first_revenue_month() or latest
        return lifecycle_components(
            through=latest,
            months=len(month_range(first, latest)),
            adjusted=adjusted,
            by_product=kind == "products",
        )

    return cached(_history_name(kind, latest=latest, adjusted=adjusted), compute)


def page_components(
    *, through: dt.date, adjusted: bool, latest: dt.date | None
) -> list[MonthComponents]:
    """The revenue page's 18 + 1 months of total-level components.

    A slice of the cached history (zeros before the first month with
    revenue); the history is computed on the way (about as long as the page's own
    months, since those look back 14 months anyway). ``latest`` is
    ``revenue_data_through(…).month``, which the caller has read.
    """
    if latest is not None and through <= latest:
        months = history(kind="components", latest=latest, adjusted=adjusted)
        by_month = {c.month: c for c in months}
        # Before the first month with revenue every component is zero.
        return [
            by_month.get(m) or empty_components(m)
            for m in month_range(add_months(through, 1 - PAGE_MONTHS), through)
        ]
    return cached(
        f"components:{through}:{adjusted}",
        partial(lifecycle_components, through=through, adjusted=adjusted),
    )


def page_products(
    *, through: dt.date, adjusted: bool, latest: dt.date | None
) -> list[MonthComponents]:
    """Per-product components of ``through``: from the warmed history when the
    hourly job has computed it (it takes four times one month), else one month."""
    if latest is not None:
        products: list[MonthComponents] | None = cached_only(
            _history_name("products", latest=latest, adjusted=adjusted)
        )
        if products is not None and through <= latest:
            # Before the first month with revenue no product has a row.
            return [row for row in products if row.month == through]
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
    """Start a new data version; compute the whole history (company totals and
    per product) and the latest month's movers, both bases.

    Every month's page then needs only its movers computed (about a second at
    100,000 accounts). Idempotent; returns the number of computations cached (6).
    """
    bump_revenue_data_version()
    data = revenue_data_through(today=today)
    latest = data.month
    through = data.figures_month  # what the page shows by default
    for adjusted in (True, False):
        if latest is not None:
            history(kind="components", latest=latest, adjusted=adjusted)
            history(kind="products", latest=latest, adjusted=adjusted)
        page_components(through=through, adjusted=adjusted, latest=latest)
        page_movers(through=through, adjusted=adjusted)
    return 6
