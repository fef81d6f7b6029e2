from __future__ import annotations

from django import template

from accounts.models import Account
from billing.trial_views import STAGES, trial_rows

register = template.Library()


@register.simple_tag
def account_trials(account: Account) -> list[dict[str, object]]:
    """The account's trials with their state today (two queries)."""
    return trial_rows(account_id=account.pk, stages=STAGES["all"])
