from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from .extensions import sections_for


@lru_cache(maxsize=256)
def _section_url(url_name: str, prefix: str, urlconf: str | None) -> str:
    # A section's (or header link's) URL depends only on these three; reversing a
    # dozen names on every page cost about a millisecond (issue 20: the pages near their SQL).
    return reverse(url_name, urlconf=urlconf)


# The header's own links (base.html), by key: on every page, reversed once per
# process as the sections are.
_HEADER_LINKS = {
    "home": "home",
    "search": "accounts:search",
    "password_change": "password_change",
    "logout": "logout",
    "admin": "admin:index",
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The header's links (``header``: URL by key) and the sections the signed-in
    person may open (each app registers its own with the predicate its view
    refuses with), with the current one marked: the longest section URL the path
    starts with."""
    prefix, urlconf = get_script_prefix(), get_urlconf()
    header = {key: _section_url(name, prefix, urlconf) for key, name in _HEADER_LINKS.items()}
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": [], "header": header}
    links = [
        (_section_url(section.url_name, prefix, urlconf), section.label)
        for section in sections_for(user)
    ]
    matching = [url for url, _ in links if request.path.startswith(url)]
    current = max(matching, key=len, default=None)
    return {
        "navigation": [(url, label, url == current) for url, label in links],
        "header": header,
    }
