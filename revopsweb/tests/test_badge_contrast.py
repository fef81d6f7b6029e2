"""Health badges pass WCAG AA contrast (4.5:1) for their white text (issue 19: the
"Fair" badge was 3.64:1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("health", ["good", "fair", "poor"])
def test_health_badges_have_at_least_4_5_to_1_against_white_text(health):
    match = re.search(
        rf"\.badge\.{health}[^{{]*\{{ background: #([0-9a-fA-F]{{6}})", CSS.read_text()
    )
    assert match, f"no background for .badge.{health}"
    ratio = 1.05 / (_luminance(match.group(1)) + 0.05)
    assert ratio >= 4.5, (health, round(ratio, 2))


def test_the_old_fair_colour_fails_the_check():
    # The oracle itself: #b7791f is the 3.64:1 the issue measured.
    assert round(1.05 / (_luminance("b7791f") + 0.05), 2) == 3.64
