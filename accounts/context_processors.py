from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from .extensions import sections_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The sections the signed-in person may open (each app registers its own with
    the predicate its view refuses with), with the current one marked: the
    longest section URL the path starts with."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    links = [(reverse(section.url_name), section.label) for section in sections_for(user)]
    matching = [url for url, _ in links if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    return {"navigation": [(url, label, url == current) for url, label in links]}
