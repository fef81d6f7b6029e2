"""Tasks that only the process tests' workers load (``celery worker --include``)."""

from __future__ import annotations

import time
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True)
def touch_after(*, path: str, seconds: float) -> str:
    """Sleep ``seconds``, then append a line to ``path``: proof the task ran to its end."""
    time.sleep(seconds)
    with Path(path).open("a") as out:
        out.write("done\n")
    return "done"
