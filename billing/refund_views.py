"""Refund requests: asked from the account page, evaluated, decided (``billing.refunds``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import StaffRequest
from accounts.permissions import can_edit_account, visible_accounts
from revopsweb import parsing
from revopsweb.dates import company_today
from revopsweb.forms import Form

from .models import Invoice, RefundRequest
from .refunds import RefundError, decide_refund, evaluation, may_decide, request_refund


class RefundRequestForm(Form):
    invoice = forms.ModelChoiceField(queryset=Invoice.objects.none())
    scenario = forms.ChoiceField(choices=RefundRequest.Scenario.choices)
    price_at_spike = parsing.AmountField(
        label="Price at the spike's volume", help_text="Dollars, from the pricing calculator."
    )
    price_at_baseline = parsing.AmountField(
        label="Price at the baseline volume",
        help_text="Dollars: the average usage of the three months before, priced.",
    )
    issue_fixed = forms.BooleanField(required=False, label="The cause is fixed")
    extraordinary = forms.BooleanField(
        required=False, label="Extraordinary circumstances (e.g. a PostHog bug)"
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args: Any, account_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["invoice"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Invoice.objects.filter(account_id=account_id).order_by("-issued_on")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        spike, baseline = data.get("price_at_spike"), data.get("price_at_baseline")
        if spike is not None and baseline is not None and spike < baseline:
            self.add_error("price_at_spike", "Is below the price at the baseline.")
        return data


class DecisionForm(Form):
    amount = parsing.AmountField(required=False, help_text="Dollars, for an approval.")
    note = forms.CharField(required=False, max_length=2000)


@require_http_methods(["GET", "POST"])
def new_refund(request: StaffRequest, account_pk: int) -> HttpResponse:
    """The refund request form of one account (its owner, their team lead, managers)."""
    account = get_object_or_404(
        visible_accounts(request.user).select_related("owner"), pk=account_pk
    )
    if not can_edit_account(request.user, account):
        raise PermissionDenied(
            "Refunds are requested by the account's owner, their team lead or a manager."
        )
    form = RefundRequestForm(request.POST or None, account_id=account.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            refund = request_refund(
                invoice=data["invoice"],
                requested_by=request.user,
                requested_on=company_today(),
                scenario=data["scenario"],
                issue_fixed=data["issue_fixed"],
                extraordinary=data["extraordinary"],
                price_at_spike=data["price_at_spike"],
                price_at_baseline=data["price_at_baseline"],
                reason=data["reason"],
            )
        except RefundError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("billing:refund", pk=refund.pk)
    return render(request, "billing/refund_new.html", {"account": account, "form": form})


def _visible_refund(request: StaffRequest, pk: int) -> RefundRequest:
    return get_object_or_404(
        RefundRequest.objects.select_related(
            "account__owner", "invoice", "requested_by", "decided_by"
        ).filter(account__in=visible_accounts(request.user)),
        pk=pk,
    )


@require_http_methods(["GET"])
def refund(request: StaffRequest, pk: int) -> HttpResponse:
    """A request with each rule's verdict, and the decision form for those who decide."""
    item = _visible_refund(request, pk)
    return render(
        request,
        "billing/refund.html",
        {
            "refund": item,
            "evaluation": evaluation(item),
            "may_decide": may_decide(request.user, item),
            "form": DecisionForm(),
        },
    )


@require_POST
def decide(request: StaffRequest, pk: int) -> HttpResponse:
    """Approve (with an amount) or decline; every refusal is a message, never a 500."""
    item = _visible_refund(request, pk)
    form = DecisionForm(request.POST)
    approve = request.POST.get("decision") == "approve"
    if form.is_valid():
        amount: Decimal | None = form.cleaned_data["amount"]
        try:
            decide_refund(
                refund=item, by=request.user, approve=approve, amount=amount,
                note=form.cleaned_data["note"],
            )  # fmt: skip
        except RefundError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Refund approved." if approve else "Refund declined.")
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("billing:refund", pk=item.pk)
