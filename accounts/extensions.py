"""Where apps built on the accounts core plug into its pages.

The core (books, the account page) never imports the apps above it
(accounts.handovers, accounts.churn); instead each of them registers here in
its ``AppConfig.ready()``:

- account sets: a named function ``(queryset of accounts) -> set of ids`` the
  book page and its CSV use to mark rows (e.g. "churn_risk"); a name nobody
  registered is the empty set.
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

from django.db.models import QuerySet

from .models import Account, User

AccountSet = Callable[[QuerySet[Account]], set[int]]

_ACCOUNT_SETS: dict[str, AccountSet] = {}
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


def register_account_set(name: str, ids_of: AccountSet) -> None:
    """Register ``ids_of`` under ``name``; registering a name again replaces it."""
    _ACCOUNT_SETS[name] = ids_of


def account_set(name: str, queryset: QuerySet[Account]) -> set[int]:
    """Ids of the accounts of ``queryset`` in the set ``name`` (empty when not registered)."""
    ids_of = _ACCOUNT_SETS.get(name)
    return ids_of(queryset) if ids_of is not None else set()


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
