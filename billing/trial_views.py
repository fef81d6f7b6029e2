"""The trials page: every trial with its stage, Day 0, must-haves, length band and extensions."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.http import StaffRequest
from accounts.permissions import can_edit_account, openable_account_ids
from revopsweb.dates import company_today
from revopsweb.imports import ImportResult
from revopsweb.sql import CompiledOnce

from .models import Trial
from .term_imports import TrialExtensionImport, TrialImport
from .trials import allowed_trial_days, trial_state

STAGES = {
    "open": ("upcoming", "day_0", "running"),
    "ended": ("ended", "won", "lost"),
    "all": ("upcoming", "day_0", "running", "ended", "won", "lost"),
}


def _trials() -> QuerySet[Trial]:
    return (
        Trial.objects.select_related("account__owner", "product")
        .annotate(extension_days=Coalesce(Sum("extensions__days"), 0))
        .order_by("-starts_on", "pk")
    )


# One account's trials (the account page's panel, on every visit): the statement is
# compiled once per process and run with the account's id (issue 20).
_ACCOUNT_TRIALS = CompiledOnce(Trial)


def trial_rows(
    *, account_id: int | None = None, stages: tuple[str, ...]
) -> list[dict[str, object]]:
    """Trials (of one account, or all) with their state today, newest first. Two queries
    (one without trials)."""
    today = company_today()
    trials: Iterable[Trial]
    if account_id is None:
        trials = _trials().prefetch_related("extensions")
    else:
        trials = _ACCOUNT_TRIALS.rows(
            "account",
            lambda account_pk: _trials().filter(account_id=account_pk),
            account_pk=account_id,
        )
        prefetch_related_objects(trials, "extensions")
    rows = []
    for trial in trials:
        days: int = trial.extension_days  # type: ignore[attr-defined]  # _trials' annotation
        state = trial_state(trial=trial, extension_days=days, today=today)
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
    # Every trial of the company is listed: each account links only where it opens.
    openable = openable_account_ids(
        request.user,
        (row["trial"].account_id for row in rows),  # type: ignore[attr-defined]
    )
    return render(
        request, "billing/trials.html", {"rows": rows, "show": show, "openable": openable}
    )


def _trial_record(trial: Trial, **changes: object) -> dict[str, object]:
    """The trial as a trials CSV row, with ``changes``: posts go through the import's row
    form, so the page accepts exactly what a file, the API and the admin accept."""
    row: dict[str, object] = {
        "organization_id": trial.account.organization_id,
        "kind": trial.kind,
        "product": trial.product.key if trial.product else "",
        "starts_on": trial.starts_on.isoformat(),
        "ends_on": trial.ends_on.isoformat(),
        "deal_arr": "" if trial.deal_arr is None else str(trial.deal_arr),
        "four_week_reason": trial.four_week_reason,
        "sdk_live_on": trial.sdk_live_on.isoformat() if trial.sdk_live_on else "",
        "success_criteria": trial.success_criteria,
        "outcome": trial.outcome,
    }
    row.update(changes)
    return row


def _editable_trial(request: StaffRequest, pk: int) -> Trial:
    trial = get_object_or_404(Trial.objects.select_related("account__owner", "product"), pk=pk)
    if not can_edit_account(request.user, trial.account):
        raise PermissionDenied
    return trial


def _report(request: StaffRequest, result: ImportResult, done: str) -> None:
    if result.errors:
        messages.error(request, "; ".join(f"{e.column}: {e.reason}" for e in result.errors))
    else:
        messages.success(request, done)


@require_POST
def trial_update(request: StaffRequest, pk: int) -> HttpResponse:
    """Record Day 0, the success criteria or the outcome of a trial (owner, their lead, managers)."""
    trial = _editable_trial(request, pk)
    changes = {
        name: request.POST[name]
        for name in ("sdk_live_on", "success_criteria", "outcome")
        if name in request.POST
    }
    result = TrialImport(actor=request.user).run(
        [(1, _trial_record(trial, **changes))], dry_run=False
    )
    _report(request, result, "Trial updated.")
    return redirect(reverse("accounts:account", args=[trial.account_id]) + "#trials")


@require_POST
def trial_extend(request: StaffRequest, pk: int) -> HttpResponse:
    """Extend a trial by 7–30 days with why and the "get" (owner, their lead, managers)."""
    trial = _editable_trial(request, pk)
    row = {
        "organization_id": trial.account.organization_id,
        "trial_kind": trial.kind,
        "trial_starts_on": trial.starts_on.isoformat(),
        "granted_on": company_today().isoformat(),
        **{name: request.POST.get(name, "") for name in ("days", "reason", "get")},
    }
    result = TrialExtensionImport(actor=request.user).run([(1, row)], dry_run=False)
    _report(request, result, "Trial extended.")
    return redirect(reverse("accounts:account", args=[trial.account_id]) + "#trials")
