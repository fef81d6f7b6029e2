from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# (url name, label) for the top navigation, in the order people use them.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("accounts:my_book", "My book"),
    ("leads:my_tasks", "Tasks"),
    ("leads:tracker", "Round robin tracker"),
    ("accounts:handovers", "Handovers"),
    ("accounts:churn_review", "Churn review"),
    ("billing:revenue", "Revenue"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"navigation": NAVIGATION}
