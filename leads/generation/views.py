"""Lead rules pages: every rule with its thresholds and results; edit with preview.

Team leads, managers and RevOps read them; only RevOps changes a rule
(sales/lead-scoring: the rules are tweaked by RevOps and measured).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.http import StaffRequest
from leads.permissions import can_edit_lead_rules, can_see_lead_rules
from revopsweb.dates import company_today

from . import catalog
from .forms import RuleVersionForm
from .generate import describe, to_rule, versions_in_force
from .models import LeadRule
from .stats import TARGET_CONVERSION, RuleStats, monthly_stats, rule_stats
from .versions import preview_rule, save_rule_version

# The preview lists this many accounts; the count is always the full one.
PREVIEW_ROWS = 100


def _require_viewer(request: StaffRequest) -> None:
    if not can_see_lead_rules(request.user):
        raise PermissionDenied("Lead rules are for team leads, managers and RevOps.")


def _require_editor(request: StaffRequest) -> None:
    if not can_edit_lead_rules(request.user):
        raise PermissionDenied("Only RevOps changes the lead rules.")


def _get_rule(request: StaffRequest, key: str) -> LeadRule:
    _require_viewer(request)
    return get_object_or_404(LeadRule, key=key, key__in=list(catalog.RULES_BY_KEY))


def threshold_rows(definition: catalog.RuleDefinition, thresholds: dict[str, Any]) -> list[Any]:
    """(label, value) for display; money with a dollar sign, lists joined."""
    rows = []
    for threshold in definition.thresholds:
        value = thresholds.get(threshold.name, threshold.default)
        if threshold.kind == "money":
            shown = f"${float(str(value)):,.2f}"
        elif threshold.kind == "percent":
            shown = f"{value}%"
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = str(value)
        rows.append((threshold.label, shown))
    return rows


@require_GET
def rules(request: StaffRequest) -> HttpResponse:
    """Every rule: version in force, thresholds, cool-down, results against the 20% target."""
    _require_viewer(request)
    stats = rule_stats()
    rows = []
    for version in versions_in_force(today=company_today()):
        definition = catalog.RULES_BY_KEY[version.rule.key]
        rows.append(
            {
                "version": version,
                "rule": version.rule,
                "thresholds": threshold_rows(definition, version.thresholds),
                "stats": stats.get(version.rule.key, RuleStats()),
            }
        )
    return render(request, "leadgen/rules.html", {"rows": rows, "target": TARGET_CONVERSION})


def _detail_context(
    request: StaffRequest, rule: LeadRule, *, form: RuleVersionForm | None = None, **extra: Any
) -> dict[str, Any]:
    today = company_today()
    definition = catalog.RULES_BY_KEY[rule.key]
    history = list(rule.versions.select_related("author").order_by("-number"))
    in_force = next(
        (
            v
            for v in sorted(history, key=lambda v: (v.effective_on, v.number), reverse=True)
            if v.effective_on <= today
        ),
        None,
    )
    if form is None and can_edit_lead_rules(request.user) and in_force is not None:
        form = RuleVersionForm(
            definition=definition,
            today=today,
            initial=RuleVersionForm.initial_for(to_rule(in_force), today=today),
        )
    months = monthly_stats(rule_key=rule.key)
    return {
        "rule": rule,
        "definition": definition,
        "in_force": in_force,
        "thresholds": threshold_rows(definition, in_force.thresholds) if in_force else [],
        "history": [(v, threshold_rows(definition, v.thresholds)) for v in history],
        "stats": rule_stats().get(rule.key, RuleStats()),
        "months": months,
        "chart": {
            "labels": [f"{m.month:%Y-%m}" for m in months],
            "raised": [m.raised for m in months],
            "converted": [m.converted for m in months],
            "disqualified": [m.disqualified for m in months],
            "rate": [
                float(m.conversion_pct) if m.conversion_pct is not None else None for m in months
            ],
            "target": float(TARGET_CONVERSION),
        },
        "target": TARGET_CONVERSION,
        "form": form,
        "can_edit": can_edit_lead_rules(request.user),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def rule_detail(request: StaffRequest, key: str) -> HttpResponse:
    """One rule: thresholds, history, results by month; RevOps saves a new version here."""
    rule = _get_rule(request, key)
    if request.method == "GET":
        return render(request, "leadgen/rule.html", _detail_context(request, rule))
    _require_editor(request)
    form = RuleVersionForm(
        request.POST, definition=catalog.RULES_BY_KEY[rule.key], today=company_today()
    )
    if not form.is_valid():
        return render(
            request, "leadgen/rule.html", _detail_context(request, rule, form=form), status=400
        )
    version = save_rule_version(
        rule=rule,
        author=request.user,
        thresholds=form.thresholds(),
        cooldown_days=form.cleaned_data["cooldown_days"],
        is_active=form.cleaned_data["is_active"],
        effective_on=form.cleaned_data["effective_on"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(
        request, f"Saved version {version.number}, in force from {version.effective_on:%Y-%m-%d}."
    )
    return redirect("leadgen:rule", key=rule.key)


@require_POST
def rule_preview(request: StaffRequest, key: str) -> HttpResponse:
    """What the edited thresholds would raise today (count and list); saves nothing."""
    rule = _get_rule(request, key)
    _require_editor(request)
    form = RuleVersionForm(
        request.POST,
        definition=catalog.RULES_BY_KEY[rule.key],
        today=company_today(),
        for_preview=True,
    )
    template = "leadgen/rule.html#preview" if request.htmx else "leadgen/rule.html"
    if not form.is_valid():
        context = _detail_context(request, rule, form=form, preview_invalid=True)
        # htmx swaps only 2xx responses: the partial lists the errors itself.
        return render(request, template, context, status=200 if request.htmx else 400)
    hits = preview_rule(draft=form.draft(version=0))
    context = _detail_context(
        request,
        rule,
        form=form,
        preview={
            "count": len(hits),
            "rows": [(h, describe(h.values)) for h in hits[:PREVIEW_ROWS]],
            "truncated": len(hits) > PREVIEW_ROWS,
        },
    )
    return render(request, template, context)
