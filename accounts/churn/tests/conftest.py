from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    # The backtest caches its table in Redis, which outlives each test's
    # database; a key from another test (or run) must never answer here.
    cache.clear()
    yield
    cache.clear()
