"""The handovers app's panel on the role homes (accounts.home): handovers still
open that the person is a party to or leads a party of."""

from __future__ import annotations

import datetime as dt
from typing import Any

from accounts.models import User

from .models import OPEN_STATES
from .permissions import visible_handovers

HOME_ROWS = 8


def waiting_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Open handovers the person sees (``visible_handovers``), oldest first. Two queries."""
    waiting = visible_handovers(user).filter(state__in=OPEN_STATES)
    return {
        "handover_count": waiting.count(),
        "handovers": list(
            waiting.select_related("account", "from_owner", "to_owner").order_by(
                "proposed_at", "pk"
            )[:HOME_ROWS]
        ),
    }
