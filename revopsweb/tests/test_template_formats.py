"""No template formats money, numbers or dates by hand (issue 19): each kind goes
through its filter (revopsweb/formats.py)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Formatting by hand: Django's date/time filters with an ad-hoc format, floatformat,
# intcomma, and a literal "$" before a value (the money filter writes the sign).
BY_HAND = re.compile(r"\|(date|time|floatformat|intcomma)\b|\$\{\{")


def test_no_template_formats_money_numbers_or_dates_by_hand():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()[:120]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if BY_HAND.search(line)
    ]
    assert offenders == [], "use money, number, day, month or moment:\n" + "\n".join(offenders)


def test_the_scan_catches_a_hand_formatted_amount_and_date():
    assert BY_HAND.search('<td>${{ invoice.amount|floatformat:"2g" }}</td>')
    assert BY_HAND.search('{{ flag.closed_at|date:"M j" }}')
    assert not BY_HAND.search('{{ invoice.amount|money:"cents" }} on {{ flag.closed_at|day }}')
