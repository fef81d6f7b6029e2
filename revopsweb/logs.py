"""Filters for the console log (``settings.LOGGING``)."""

from __future__ import annotations

import logging


class RefusalsWithoutTraceback(logging.Filter):
    """Drop the traceback Django attaches to its 403 and 404 warnings.

    A refusal or a missing page is an ordinary outcome that the page itself
    explains; with its traceback, every refused click wrote a stack of thirty
    lines to ``web.log``. The warning line (the path and the status) stays,
    and errors (5xx) keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in (403, 404):
            record.exc_info = None
            record.exc_text = None
        return True
