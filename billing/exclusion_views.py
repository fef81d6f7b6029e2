"""Optimisation exclusion posts from the quota page (plain form posts, redirect back)."""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.http import StaffRequest
from accounts.models import Account
from revopsweb import parsing
from revopsweb.dates import quarter_label
from revopsweb.forms import Form

from .exclusions import ExclusionError, decide_exclusion, request_exclusion
from .models import OptimisationExclusion
from .permissions import can_see_quota


class ExclusionRequestForm(Form):
    quarter = forms.CharField(max_length=6)
    amount = parsing.AmountField(label="ARR drop to exclude ($)")
    evidence = forms.CharField(widget=forms.Textarea, max_length=4000)
    evidence_url = forms.URLField(required=False, assume_scheme="https", max_length=200)

    def clean_quarter(self) -> object:
        try:
            return parsing.parse_quarter(self.cleaned_data["quarter"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None


class ExclusionDecisionForm(Form):
    approve = parsing.BooleanField()
    reason = forms.CharField(required=False, max_length=2000)


def _back(request: StaffRequest, quarter: str) -> HttpResponse:
    """Back to where the form was: the quota page of ``quarter`` (as posted; dropped unless
    it is a quarter), with the TAM's group of accounts open when the form posted its ``tam``
    (the page checks who may open it)."""
    query = {}
    with contextlib.suppress(ValueError):
        query["quarter"] = quarter_label(parsing.parse_quarter(quarter))
    tam = str(request.POST.get("tam", ""))
    if tam.isascii() and tam.isdigit():
        query["tam"] = tam
    url = reverse("billing:quota")
    if query:
        url += f"?{urlencode(query)}"
    if "tam" in query:
        url += f"#tam-{query['tam']}"
    return redirect(url)


@require_POST
def request_exclusion_view(request: StaffRequest, account_id: int) -> HttpResponse:
    if not can_see_quota(request.user):
        raise PermissionDenied
    account = get_object_or_404(Account, pk=account_id)
    form = ExclusionRequestForm(request.POST)
    if not form.is_valid():
        problems = [
            f"{name}: {' '.join(str(m) for m in errs)}" for name, errs in form.errors.items()
        ]
        messages.error(request, "; ".join(problems))
        return _back(request, str(request.POST.get("quarter", "")))
    quarter = form.cleaned_data["quarter"]
    try:
        request_exclusion(
            account=account,
            quarter=quarter,
            amount=form.cleaned_data["amount"],
            evidence=form.cleaned_data["evidence"],
            evidence_url=form.cleaned_data["evidence_url"],
            by=request.user,
        )
    except ExclusionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"Exclusion requested for {account.name}: the team lead decides first."
        )
    return _back(request, quarter_label(quarter))


@require_POST
def decide_exclusion_view(request: StaffRequest, pk: int) -> HttpResponse:
    get_object_or_404(OptimisationExclusion, pk=pk)
    form = ExclusionDecisionForm(request.POST)
    quarter = str(request.POST.get("quarter", ""))
    if not form.is_valid():
        messages.error(request, "Approve or decline, with a reason for a decline.")
        return _back(request, quarter)
    try:
        exclusion = decide_exclusion(
            exclusion_id=pk,
            by=request.user,
            approve=form.cleaned_data["approve"],
            reason=form.cleaned_data["reason"],
        )
    except ExclusionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Exclusion {exclusion.get_status_display().lower()}.")
    return _back(request, quarter)
