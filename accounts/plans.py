"""Quarterly account plans (sales/account-planning) and account notes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from revopsweb.dates import quarter_number, quarter_start

from .models import Account, AccountPlan, Activity, ActivityKind, User
from .segments import core_product_names, paid_core_products, with_revenue


def plan_title(account: Account, *, day: dt.date) -> str:
    return f"Q{quarter_number(day)} Account Plan – {account.name}"


def start_quarter_plan(*, account: Account, author: User, today: dt.date) -> AccountPlan:
    """The account's plan for ``today``'s quarter, created prefilled from its data
    (business info, revenue, paid products, owners, risks) and carrying over
    last plan's stakeholders and objectives. Idempotent: returns the existing
    plan of the quarter if there is one."""
    start = quarter_start(today)
    existing = AccountPlan.objects.filter(account=account, quarter_start=start).first()
    if existing is not None:
        return existing
    figures = with_revenue(Account.objects.filter(pk=account.pk), today=today).get()
    paid = paid_core_products([account.pk], today=today).get(account.pk, [])
    previous = AccountPlan.objects.filter(account=account, quarter_start__lt=start).first()
    overview = "\n".join(
        [
            f"Name: {account.name}",
            f"Website: {account.domain or '–'}",
            f"HQ location: {account.country or '–'}",
            f"Business type: {account.business_type or '–'}",
            f"Employees: {account.employee_count or '–'}",
            f"Plan: {account.get_plan_display()}; renewal {account.renewal_date or '–'}",
            f"MRR ${figures.mrr:,.0f}; ARR ${figures.arr:,.0f}",
            f"Health: {account.get_health_display() or '–'}; "
            f"active users (30 days): {account.active_users_30d or '–'}",
        ]
    )
    core_missing = [name for name in core_product_names() if name not in paid]
    products = "\n".join(
        [
            f"Paid core products: {', '.join(paid) or 'none'}",
            f"Cross-sell candidates: {', '.join(core_missing) or 'fully expanded on core'}",
            "Underutilized products & next steps:",
        ]
    )
    risks = "Risks to renewal or growth (champion leaving, budget, low adoption):\nMitigation:"
    if account.health == "poor":
        risks = "Health is poor.\n" + risks
    try:
        with transaction.atomic():
            return AccountPlan.objects.create(
                account=account,
                quarter_start=start,
                title=plan_title(account, day=today),
                overview=overview,
                objectives=previous.objectives if previous else "",
                stakeholders=previous.stakeholders if previous else "",
                products_cross_sell=products,
                risks=risks,
                action_items="",
                author=author,
            )
    except IntegrityError:
        # Someone else started it at the same moment.
        return AccountPlan.objects.get(account=account, quarter_start=start)


def add_note(*, account: Account, author: User, summary: str, body: str = "") -> Activity:
    """Record a note on the account: who, when, what."""
    if not summary.strip():
        raise ValueError("A note needs a summary.")
    return Activity.objects.create(
        account=account,
        kind=ActivityKind.NOTE,
        author=author,
        occurred_at=timezone.now(),
        summary=summary.strip()[:300],
        body=body,
    )
