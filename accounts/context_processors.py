from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

# (url name, label) for the top navigation, in the order people use them.
NAVIGATION: tuple[tuple[str, str], ...] = (
    ("accounts:my_book", "My book"),
    ("leads:my_tasks", "Tasks"),
    ("leads:tracker", "Round robin tracker"),
    ("leadgen:rules", "Lead rules"),
    ("handovers:list", "Handovers"),
    ("churn:review", "Churn review"),
    ("billing:revenue", "Revenue"),
    ("billing:quota", "Quota"),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The sections with their URLs; the current one is the longest URL the path starts with."""
    links = [(reverse(name), label) for name, label in NAVIGATION]
    matching = [url for url, _ in links if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    return {"navigation": [(url, label, url == current) for url, label in links]}
