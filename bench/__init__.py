"""Benchmarks of revopsweb, run with ``python -m bench [NAME ...]``.

A benchmark is a function taking ``BenchOptions`` that prints its figures,
registered under a name with ``@register("name")`` in any module of this
package (every module is imported by the runner, so adding a file is enough).
Figures are ratios to a baseline measured in the same run, plus absolute
seconds, so results from different machines can be compared.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class BenchOptions:
    accounts: int
    months: int
    seed: int
    # Tiny sizes and short load runs: proves the harness works end to end
    # (the test suite runs it); its figures mean nothing.
    smoke: bool = False

    def size(self, full: int, *, smoke: int) -> int:
        """``full`` in a real run, ``smoke`` in a smoke run."""
        return smoke if self.smoke else full


# A benchmark returns its figures (name → number) for the results file.
Benchmark = Callable[[BenchOptions], dict[str, float] | None]
BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str) -> Callable[[Benchmark], Benchmark]:
    """Register the decorated function as the benchmark ``name``."""

    def decorator(func: Benchmark) -> Benchmark:
        if name in BENCHMARKS:
            raise ValueError(f"Benchmark {name!r} is registered twice.")
        BENCHMARKS[name] = func
        return func

    return decorator


def load_benchmarks() -> dict[str, Benchmark]:
    """Import every module of the package so each registers its benchmarks.

    Call after ``django.setup()``: benchmark modules import models.
    """
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return BENCHMARKS
