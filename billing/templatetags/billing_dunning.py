from __future__ import annotations

from django import template

from accounts.models import Account
from billing.dunning import DunningCase, dunning_cases
from billing.models import RefundRequest
from revopsweb.dates import company_today

register = template.Library()


@register.simple_tag
def account_dunning_cases(account: Account) -> list[DunningCase]:
    """The account's open dunning cases (the account page's risk indicator)."""
    return dunning_cases(accounts=Account.objects.filter(pk=account.pk), today=company_today())


@register.simple_tag
def account_refunds(account: Account) -> list[RefundRequest]:
    """The account's refund requests, newest first (the account page's refunds panel)."""
    return list(RefundRequest.objects.filter(account_id=account.pk).select_related("invoice")[:20])
