"""The billing app's panels on the role homes (accounts.home): revenue through the
latest imported month (managers), and failed payments: an owner's own accounts in
dunning, a team lead's team's, and for managers the unmanaged accounts with a
failed payment of $1,500 or more (sales/billing: "the owner is told, and for
unmanaged accounts ... the managers are"). Each context runs a fixed number of
queries whatever the row count."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from accounts.models import Account, User

from .cache import Freshness, fresh_summary, page_components
from .dunning import MANAGERS_TAGGED_FROM, DunningCase, dunning_cases
from .revenue_data import revenue_data_through

# The latest months the home shows; the revenue page has the rest.
HOME_MONTHS = 3
# Failed payments a home lists; the dunning queue has them all.
HOME_DUNNING_ROWS = 8


def revenue_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """MRR and its lifecycle components (adjusted, dollars) of the last three
    imported months, newest first; empty when nothing is imported. Read from
    the revenue summaries: a fixed number of queries."""
    latest = revenue_data_through(today=today).month
    if latest is None:
        return {"months": []}
    freshness = fresh_summary()
    if freshness is Freshness.NOT_BUILT:
        return {"months": [], "updating": freshness.message}
    months = page_components(through=latest, adjusted=True)
    return {"months": list(reversed(months[-HOME_MONTHS:])), "updating": freshness.message}


def _failed_payments(cases: list[DunningCase]) -> dict[str, Any]:
    # Most overdue first (dunning_cases' order): the nearest suspension or revert on top.
    return {"count": len(cases), "cases": cases[:HOME_DUNNING_ROWS]}


def book_dunning_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Unpaid invoices with a failed payment on the person's own accounts: what the
    #sales-alerts post tagged them for, with the day, stage and next step. Two queries."""
    cases = dunning_cases(accounts=Account.objects.filter(owner=user), today=today)
    return {**_failed_payments(cases), "whose": "your accounts"}


def team_dunning_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Failed payments on the team lead's team's accounts (and their own). Two queries."""
    team = Account.objects.filter(Q(owner__team_lead=user) | Q(owner=user))
    cases = dunning_cases(accounts=team, today=today)
    return {**_failed_payments(cases), "whose": "your team's accounts"}


def company_dunning_panel(user: User, today: dt.date, month: dt.date) -> dict[str, Any]:
    """Failed payments of $1,500 or more on unmanaged accounts (no owner): the ones
    the managers are told of (``billing.dunning.told_for``). Two queries."""
    cases = [
        case
        for case in dunning_cases(accounts=Account.objects.filter(owner=None), today=today)
        if case.invoice.amount >= MANAGERS_TAGGED_FROM
    ]
    return {
        **_failed_payments(cases),
        "whose": f"unmanaged accounts, ${MANAGERS_TAGGED_FROM:,.0f} or more",
    }
