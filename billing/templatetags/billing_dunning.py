from __future__ import annotations

from django import template
from django.db.models import QuerySet

from accounts.models import Account
from billing.dunning import DunningCase, account_dunning
from billing.models import RefundRequest
from revopsweb.dates import company_today
from revopsweb.sql import CompiledOnce

register = template.Library()


@register.simple_tag
def account_dunning_cases(account: Account) -> list[DunningCase]:
    """The account's open dunning cases (the account page's risk indicator)."""
    return account_dunning(account=account, today=company_today())


# The panel's statement, compiled once per process and run with the account's id (issue 20).
_ACCOUNT_REFUNDS = CompiledOnce(RefundRequest)


def _refunds(account_pk: int) -> QuerySet[RefundRequest]:
    return RefundRequest.objects.filter(account_id=account_pk).select_related("invoice")[:20]


@register.simple_tag
def account_refunds(account: Account) -> list[RefundRequest]:
    """The account's refund requests, newest first (the account page's refunds panel)."""
    return _ACCOUNT_REFUNDS.rows("account", _refunds, account_pk=account.pk)
