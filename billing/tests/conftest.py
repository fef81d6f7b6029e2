from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_revenue_cache() -> Iterator[None]:
    """Cached revenue numbers must not leak from one test's data into another's."""
    cache.clear()
    yield
    cache.clear()
