"""Where apps built on the accounts core plug into its pages.

The core (books, the account page) never imports the apps above it
(accounts.handovers, accounts.churn); instead each of them registers here in
its ``AppConfig.ready()``:

- account marks: a named yes/no figure of an account row (e.g. "churn_risk"),
  registered as a function giving a boolean expression over the row (``OuterRef("pk")``
  is the account). The book page and the account page read them as columns of
  their own statement (``mark_annotations``); the book's CSV as a set of ids
  (``account_set``). A name nobody registered marks no account.
- account panels: templates included on the account page, with the page's
  context (``account``, ``can_edit``, …).
- home panels: what each role's home page shows (issue 19): a template and a
  function giving its context, for the homes ("book", "team", "company",
  "data") it belongs on; each function runs a fixed number of queries.
- sections: the top navigation. Each app registers its pages with the same
  permission predicate its views refuse with, so the navigation shows a
  person exactly the sections they may open (issue 19).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, Expression, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.expressions import Combinable

from .models import Account, User

# A boolean expression over an account row, built on demand (its subqueries
# reference the row through ``OuterRef("pk")``): an Exists, or a Q of several.
AccountMark = Callable[[], Combinable | Q]

_ACCOUNT_MARKS: dict[str, AccountMark] = {}
_ACCOUNT_PANELS: list[str] = []


@dataclass(frozen=True, kw_only=True)
class Section:
    """One entry of the top navigation: a URL name, its label, where it sits
    (lower first) and the predicate of the permissions module its view uses."""

    url_name: str
    label: str
    order: int
    may_open: Callable[[User], bool]


_SECTIONS: dict[str, Section] = {}


def register_account_mark(name: str, mark: AccountMark) -> None:
    """Register ``mark`` under ``name``; registering a name again replaces it."""
    _ACCOUNT_MARKS[name] = mark


def _mark_expression(name: str) -> Expression:
    mark = _ACCOUNT_MARKS.get(name)
    if mark is None:
        return Value(False, output_field=BooleanField())
    return ExpressionWrapper(mark(), output_field=BooleanField())


def mark_annotations(*names: str) -> dict[str, Expression]:
    """``queryset.annotate(**mark_annotations("churn_risk", ...))``: each mark as a
    boolean column ``mark_<name>`` of the account's row (false for a name nobody
    registered), so a page reads its marks in its own statement instead of one
    query per mark. Read them back with ``has_mark``."""
    return {f"mark_{name}": _mark_expression(name) for name in names}


def has_mark(account: Account, name: str) -> bool:
    """Whether ``account``, read with ``mark_annotations(name)``, has the mark ``name``
    (AttributeError when it was read without that annotation)."""
    return bool(getattr(account, f"mark_{name}"))


def account_set(name: str, queryset: QuerySet[Account]) -> set[int]:
    """Ids of the accounts of ``queryset`` with the mark ``name`` (one query; empty
    without one when the name is not registered)."""
    mark = _ACCOUNT_MARKS.get(name)
    if mark is None:
        return set()
    return set(queryset.filter(mark()).values_list("pk", flat=True))


def register_account_panel(template_name: str) -> None:
    """Include ``template_name`` on the account page (once, in registration order)."""
    if template_name not in _ACCOUNT_PANELS:
        _ACCOUNT_PANELS.append(template_name)


def account_panels() -> list[str]:
    """Templates the account page includes after its own sections."""
    return list(_ACCOUNT_PANELS)


def register_section(
    *, url_name: str, label: str, order: int, may_open: Callable[[User], bool]
) -> None:
    """Add a page to the top navigation (registering ``url_name`` again replaces it).

    ``may_open`` must be the predicate the page's view refuses with, not a
    copy: the navigation then never offers a page that answers 403.
    """
    _SECTIONS[url_name] = Section(url_name=url_name, label=label, order=order, may_open=may_open)


def sections_for(user: User) -> list[Section]:
    """The sections ``user`` may open, in navigation order."""
    return sorted(
        (section for section in _SECTIONS.values() if section.may_open(user)),
        key=lambda section: section.order,
    )


# A home panel's context: (the person, today and the revenue month, both in the
# company time zone) -> the template's variables.
PanelContext = Callable[[User, dt.date, dt.date], dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class HomePanel:
    """One panel of the role homes: where it sits (lower first), on which homes."""

    key: str
    template: str
    order: int
    homes: frozenset[str]
    context: PanelContext


_HOME_PANELS: dict[str, HomePanel] = {}


def register_home_panel(
    *, key: str, template: str, order: int, homes: set[str], context: PanelContext
) -> None:
    """Show ``template`` on each home of ``homes`` with ``context(user, today, month)``
    (registering ``key`` again replaces it). ``context`` must run a fixed number
    of queries whatever the row count: the homes assert it."""
    _HOME_PANELS[key] = HomePanel(
        key=key, template=template, order=order, homes=frozenset(homes), context=context
    )


def home_panels(home: str) -> list[HomePanel]:
    """The panels of ``home`` in page order."""
    return sorted((p for p in _HOME_PANELS.values() if home in p.homes), key=lambda p: p.order)
