"""The dunning queue and an account's dunning timeline (``billing.dunning``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.http import StaffRequest
from accounts.permissions import visible_accounts
from revopsweb.dates import company_today

from .dunning import SUSPEND_AFTER_DAYS, dunning_cases
from .models import DunningAlert
from .permissions import can_see_dunning


@require_GET
def dunning_queue(request: StaffRequest) -> HttpResponse:
    """Unpaid invoices with failed payments of the accounts the person may open, most
    overdue first, with the day, the next step and the suspension countdown."""
    if not can_see_dunning(request.user):
        raise PermissionDenied
    today = company_today()
    cases = dunning_cases(accounts=visible_accounts(request.user), today=today)
    return render(
        request,
        "billing/dunning.html",
        {"cases": cases, "today": today, "suspend_after": SUSPEND_AFTER_DAYS},
    )


@require_GET
def account_dunning(request: StaffRequest, pk: int) -> HttpResponse:
    """One account's dunning: each case's timeline, the repeated-failure rule, the alerts."""
    account = get_object_or_404(visible_accounts(request.user).select_related("owner"), pk=pk)
    today = company_today()
    cases = dunning_cases(accounts=visible_accounts(request.user).filter(pk=pk), today=today)
    alerts = (
        DunningAlert.objects.filter(account=account)
        .select_related("invoice", "attempt", "delivery")
        .order_by("-attempt__attempted_on", "-pk")[:50]
    )
    return render(
        request,
        "billing/dunning_account.html",
        {"account": account, "cases": cases, "alerts": alerts, "today": today},
    )
