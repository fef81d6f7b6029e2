"""Template helpers for handovers shown on other pages (the account page)."""

from __future__ import annotations

from django import template
from django.db.models import QuerySet

from accounts.handovers.models import Handover
from accounts.models import Account

register = template.Library()


@register.simple_tag
def account_handovers(account: Account) -> QuerySet[Handover]:
    """The account's handovers, newest first (one query when iterated)."""
    return Handover.objects.filter(account=account).select_related("from_owner", "to_owner")
