"""Links to many rows of one kind, built without a ``reverse`` per row."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse


def path_for_pk(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` for many ``pk`` with one ``reverse``: a page that links
    each of its rows calls this once (a ``reverse`` cost about as much as the rest of a
    My book row's rendering; issue 20). ``name``'s pattern must take the pk as its only
    argument, with the ``int`` converter, so the pk is written as its digits."""
    marker = 9_876_543_210_123  # digits no route contains
    head, tail = reverse(name, args=[marker]).split(str(marker))
    return lambda pk: f"{head}{int(pk)}{tail}"
