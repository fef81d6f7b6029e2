"""Timing helpers shared by the benchmarks (not a benchmark: the runner skips ``_`` modules)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def seconds(work: Callable[[], Any]) -> float:
    """Wall-clock seconds of one call of ``work``."""
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def best_seconds(work: Callable[[], Any], *, repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``work``, in seconds."""
    return min(seconds(work) for _ in range(repeat))
