"""Template helpers for books: server-side SVG sparklines (money is the builtin
``money`` filter, revopsweb/templatetags/formats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString

register = template.Library()

WIDTH = 120
HEIGHT = 24


@register.simple_tag
def sparkline(values: Sequence[Decimal] | None, label: str = "MRR, last 12 months") -> SafeString:
    """An inline SVG polyline of ``values`` (oldest first); no script, CSP-safe."""
    points = list(values or [])
    if not points:
        return SafeString('<span class="muted">no revenue</span>')
    low, high = min(points), max(points)
    span = (high - low) or Decimal(1)
    step = WIDTH / max(len(points) - 1, 1)
    # Scaled between the series' own low and high, so a trend shows at any size.
    coords = " ".join(
        f"{i * step:.1f},{HEIGHT - 2 - float((v - low) / span) * (HEIGHT - 4):.1f}"
        for i, v in enumerate(points)
    )
    # Built by hand, not with format_html: the coordinates are numbers this code
    # wrote and the label is escaped here; format_html's per-argument escaping was
    # most of the tag's time on a 60-row book.
    return SafeString(
        f'<svg class="sparkline" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)}"><polyline fill="none" stroke="currentColor" '
        f'stroke-width="1.5" points="{coords}"/></svg>'
    )


@register.filter
def get_item(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key)
