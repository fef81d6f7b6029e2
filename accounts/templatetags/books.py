"""Template helpers for books: server-side SVG sparklines (money is the builtin
``money`` filter, revopsweb/templatetags/formats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django import template
from django.utils.html import format_html
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
    return format_html(
        '<svg class="sparkline" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        'aria-label="{label}"><polyline fill="none" stroke="currentColor" stroke-width="1.5" '
        'points="{coords}"/></svg>',
        w=WIDTH,
        h=HEIGHT,
        label=label,
        coords=coords,
    )


@register.filter
def get_item(mapping: dict[object, object], key: object) -> object:
    return mapping.get(key)
