"""The signal backtest page and its CSV (managers and RevOps)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.http import StaffRequest
from accounts.models import User
from revopsweb.csv_export import Cell, csv_response

from .backtest import ALL, CONTRACTION_MIN, HORIZONS, backtest_signals

REFUSED = "The signal backtest is for managers and RevOps."


def can_see_backtest(user: User) -> bool:
    """Managers and RevOps: they tune the signals and the review around them."""
    return user.is_manager


def _allowed(request: StaffRequest) -> None:
    if not can_see_backtest(request.user):
        raise PermissionDenied(REFUSED)


@require_GET
def backtest_page(request: StaffRequest) -> HttpResponse:
    """Precision and recall of each signal per segment within 90 and 180 days, with a chart."""
    _allowed(request)
    result = backtest_signals()
    tables = [{"days": days, "rows": result.for_horizon(days)} for days in HORIZONS]
    overall = [r for r in result.rows if r.segment == ALL]
    chart = {
        "labels": [r.kind_label for r in overall if r.days == HORIZONS[0]],
        "datasets": [
            {
                "label": f"{measure} within {days} days (%)",
                "data": [
                    None if value is None else float(value)
                    for value in (
                        (r.precision if measure == "Precision" else r.recall)
                        for r in overall
                        if r.days == days
                    )
                ],
            }
            for measure in ("Precision", "Recall")
            for days in HORIZONS
        ],
    }
    return render(
        request,
        "churn/backtest.html",
        {
            "result": result,
            "tables": tables,
            "chart": chart,
            "contraction_pct": int(CONTRACTION_MIN * 100),
        },
    )


@require_GET
def backtest_csv(request: StaffRequest) -> HttpResponse:
    """The backtest table as CSV, one row per signal kind, segment and horizon."""
    _allowed(request)
    result = backtest_signals()
    header = [
        "signal",
        "segment",
        "horizon_days",
        "signals_judged",
        "preceded_churn_or_contraction",
        "precision_pct",
        "signals_pending",
        "churn_or_contraction_months",
        "preceded_by_signal",
        "recall_pct",
        "chance_judged",
        "chance_followed_by_a_loss",
        "chance_pct",
        "lift",
    ]
    rows: list[list[Cell]] = [
        [
            r.kind,
            r.segment,
            r.days,
            r.judged,
            r.hits,
            r.precision,
            r.pending,
            r.outcomes,
            r.caught,
            r.recall,
            r.chance_judged,
            r.chance_hits,
            r.chance,
            r.lift,
        ]
        for r in result.rows
    ]
    return csv_response(filename="churn-signal-backtest.csv", header=header, rows=rows)
