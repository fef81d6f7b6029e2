"""Template helpers for handovers shown on other pages (the account page)."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from accounts.handovers.models import Handover
from accounts.models import Account
from revopsweb.sql import CompiledOnce

register = template.Library()

# The panel's statement, compiled once per process and run with the account's id:
# the account page shows it on every visit (issue 20).
_ACCOUNT_HANDOVERS = CompiledOnce(Handover)


def _handovers(account_pk: int) -> QuerySet[Handover]:
    return Handover.objects.filter(account=account_pk).select_related("from_owner", "to_owner")


@register.simple_tag
def account_handovers(account: Account) -> list[Handover]:
    """The account's handovers, newest first (one query)."""
    return _ACCOUNT_HANDOVERS.rows("account", _handovers, account_pk=account.pk)
