"""Invoices and payment attempts in: two billing fact kinds (see ``billing.facts``).

- ``invoices``: ``number, organization_id, period, issued_on, due_on, amount,
  status, paid_on``, upserted by number (``InvoiceRowForm``).
- ``payment_attempts``: ``invoice_number, attempted_on, outcome,
  failure_reason``, upserted by invoice and day (``PaymentAttemptRowForm``);
  the invoice must be in first. Failed attempts start dunning
  (``billing.dunning``) in the same transaction, whichever path brought them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .dunning import alert_failed_attempts
from .facts import FactImport
from .forms import InvoiceRowForm, PaymentAttemptRowForm
from .models import Invoice, PaymentAttempt

__all__ = ["InvoiceImport", "PaymentAttemptImport"]


class InvoiceImport(FactImport[Invoice]):
    """Invoices by number."""

    name = "invoices"
    label = "Invoices"
    scope = "invoices"
    header = (
        "number",
        "organization_id",
        "period",
        "issued_on",
        "due_on",
        "amount",
        "status",
        "paid_on",
    )
    form = InvoiceRowForm
    model = Invoice
    key_columns = ("number",)
    unique_fields = ("number",)
    update_fields = ("account", "period", "issued_on", "due_on", "amount", "status", "paid_on")
    notes = (
        "Upserted by number: importing an invoice again updates it (a status that moved from "
        "open to paid, a corrected amount)."
    )

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> Invoice:
        return Invoice(
            number=data["number"],
            account_id=context["accounts"][data["organization_id"]]["pk"],
            period=data["period"],
            issued_on=data["issued_on"],
            due_on=data["due_on"],
            amount=data["amount"],
            status=data["status"],
            paid_on=data["paid_on"],
        )


class PaymentAttemptImport(FactImport[PaymentAttempt]):
    """Payment attempts by invoice and day."""

    name = "payment_attempts"
    label = "Payment attempts"
    scope = "payment_attempts"
    header = ("invoice_number", "attempted_on", "outcome", "failure_reason")
    form = PaymentAttemptRowForm
    model = PaymentAttempt
    key_columns = ("invoice_number", "attempted_on")
    unique_fields = ("invoice", "attempted_on")
    update_fields = ("outcome", "failure_reason")
    notes = (
        "The invoice must be imported first. Each failed attempt puts its account into dunning: "
        "a risk indicator, an alert to #sales-alerts, the owner (or the managers) told."
    )

    def after_apply(self, objs: list[PaymentAttempt]) -> None:
        super().after_apply(objs)
        # Dunning starts in the same transaction as the failed attempt, whichever
        # path brought it; attempts alerted before are skipped (one alert each).
        failed = [o for o in objs if o.outcome == PaymentAttempt.Outcome.FAILED]
        if not failed:
            return
        keys = {(o.invoice_id, o.attempted_on) for o in failed}
        ids = [
            pk
            for pk, invoice_id, day in PaymentAttempt.objects.filter(
                invoice_id__in={k[0] for k in keys}, outcome=PaymentAttempt.Outcome.FAILED
            ).values_list("pk", "invoice_id", "attempted_on")
            if (invoice_id, day) in keys
        ]
        alert_failed_attempts(ids)

    def build(self, data: Mapping[str, Any], context: Mapping[str, Any]) -> PaymentAttempt:
        return PaymentAttempt(
            invoice_id=context["invoices"][data["invoice_number"]]["pk"],
            attempted_on=data["attempted_on"],
            outcome=data["outcome"],
            failure_reason=data["failure_reason"] or "",
        )
