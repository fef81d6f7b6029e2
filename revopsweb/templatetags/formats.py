"""The kind filters every template uses for money, numbers, days, months and
moments (a template builtin: no ``{% load %}`` needed). Rules in revopsweb/formats.py;
revopsweb/tests/test_formats.py keeps templates from formatting these kinds by hand."""

from __future__ import annotations

import datetime as dt

from django import template

from revopsweb import formats

register = template.Library()


@register.filter
def money(value: object, arg: str = "") -> str:
    """``{{ arr|money }}`` → ``$12,346``; ``{{ invoice.amount|money:"cents" }}`` → ``$1,234.50``."""
    return formats.money(value, cents=arg == "cents")


@register.filter
def number(value: object, places: int | str = 0) -> str:
    """``{{ leads|number }}`` → ``12,345``; ``{{ expected|number:1 }}`` → ``2.5``."""
    return formats.number(value, places=int(places))


@register.filter
def percent(value: object) -> str:
    """``{{ rates.churn|percent }}`` → ``−0.93%``; ``–`` for None."""
    return formats.percent(value)


@register.filter
def day(value: dt.date | dt.datetime | None) -> str:
    """``{{ effective_on|day }}`` → ``2026-11-30``."""
    return formats.day(value)


@register.filter
def month(value: dt.date | dt.datetime | None) -> str:
    """``{{ through|month }}`` → ``Nov 2026``."""
    return formats.month(value)


@register.filter
def moment(value: dt.datetime | None) -> str:
    """``{{ run.started_at|moment }}`` → ``2026-11-30 09:05 EST``."""
    return formats.moment(value)
