"""The trials page: every trial with its stage, Day 0, must-haves, length band and extensions."""

from __future__ import annotations

from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import StaffRequest
from revopsweb.dates import company_today

from .models import Trial
from .trials import allowed_trial_days, trial_state

STAGES = {
    "open": ("upcoming", "day_0", "running"),
    "ended": ("ended", "won", "lost"),
    "all": ("upcoming", "day_0", "running", "ended", "won", "lost"),
}


def trial_rows(
    *, account_id: int | None = None, stages: tuple[str, ...]
) -> list[dict[str, object]]:
    """Trials (of one account, or all) with their state today, newest first. Two queries."""
    today = company_today()
    trials = (
        Trial.objects.select_related("account__owner", "product")
        .prefetch_related("extensions")
        .annotate(extension_days=Coalesce(Sum("extensions__days"), 0))
        .order_by("-starts_on", "pk")
    )
    if account_id is not None:
        trials = trials.filter(account_id=account_id)
    rows = []
    for trial in trials:
        state = trial_state(trial=trial, extension_days=trial.extension_days, today=today)
        if state.stage not in stages:
            continue
        allowed = (
            allowed_trial_days(deal_arr=trial.deal_arr, four_week_reason=trial.four_week_reason)
            if trial.deal_arr is not None
            else None
        )
        rows.append({"trial": trial, "state": state, "allowed_days": allowed})
    return rows


@require_GET
def trials(request: StaffRequest) -> HttpResponse:
    """All trials by stage (open by default): Day 0, success criteria, length, extensions."""
    show = request.GET.get("show", "open")
    if show not in STAGES:
        show = "open"
    rows = trial_rows(stages=STAGES[show])
    return render(request, "billing/trials.html", {"rows": rows, "show": show})
