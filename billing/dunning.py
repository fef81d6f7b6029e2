"""Dunning: what a failed payment sets off (sales/billing, "Failed/late payments").

- ``alert_failed_attempts``: each failed payment attempt, however it came in
  (import, API, admin), gets one ``DunningAlert`` in the same transaction: the
  account's risk indicator, a post to #sales-alerts through the durable outbox
  (``SALES_ALERTS_WEBHOOK_URL``) tagging the owner, or for an unmanaged
  account (no owner) with a failed payment of $1,500 or more the managers.
- ``dunning_cases``: every unpaid invoice with a failed attempt, with its
  timeline counted in calendar days from the first failed attempt (the day the
  payment became late, day 0): outreach with the 7-day warning (day 0), the
  day-before warning (day 6), suspension of user access (day 7), the warning
  before termination (day 13) and the revert to the free tier (day 14, seven
  days after suspension); plus the "Repeated failed payments" rule: after three
  consecutive missed payment periods the customer pays three months in advance
  (three times their average invoice over those periods) before access is restored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet

from accounts.models import Account, User
from accounts.roles import Role
from revopsweb.dates import add_months
from revopsweb.outbox import enqueue_delivery
from revopsweb.sql import CompiledOnce

from .models import DunningAlert, Invoice, PaymentAttempt

# Unmanaged accounts with a failed payment of this much or more tag the managers.
MANAGERS_TAGGED_FROM = Decimal(1500)
SUSPEND_AFTER_DAYS = 7
# Suspended accounts go back to the free tier this many days after suspension.
REVERT_AFTER_SUSPENSION_DAYS = 7
# Consecutive missed payment periods after which access needs payment in advance.
REPEATED_MISSED_PERIODS = 3
ADVANCE_MONTHS = 3
UNPAID = (Invoice.Status.OPEN, Invoice.Status.FAILED)
PAYMENT_FAILED = "billing.payment_failed"


def told_for(*, has_owner: bool, amount: Decimal) -> str:
    """Who a failed payment is for: the owner; without one, the managers from $1,500
    (``MANAGERS_TAGGED_FROM``), else the #sales-alerts channel alone."""
    if has_owner:
        return DunningAlert.Told.OWNER
    if amount >= MANAGERS_TAGGED_FROM:
        return DunningAlert.Told.MANAGERS
    return DunningAlert.Told.CHANNEL


def _manager_emails() -> list[str]:
    return sorted(
        User.objects.filter(groups__name=Role.MANAGER, is_active=True)
        .values_list("email", flat=True)
        .distinct()
    )


def alert_message(alert: DunningAlert, *, failed_attempts: int) -> dict[str, str]:
    """The #sales-alerts post of one failed payment (Slack-style ``{"text"}``)."""
    account, invoice, attempt = alert.account, alert.invoice, alert.attempt
    reason = f" ({attempt.failure_reason})" if attempt.failure_reason else ""
    lines = [
        f":credit_card: Payment failed: *{account.name}* ({account.organization_id})",
        f"Invoice {invoice.number} for {invoice.period:%B %Y}: ${alert.amount:,.2f}, "
        f"attempt {failed_attempts} failed on {attempt.attempted_on:%Y-%m-%d}{reason}",
    ]
    if alert.told == DunningAlert.Told.OWNER:
        lines.append(f"Owner: {' '.join('@' + e for e in alert.told_emails)}")
    elif alert.told == DunningAlert.Told.MANAGERS:
        lines.append(
            "Unmanaged account, $1,500 or more: "
            + (" ".join("@" + e for e in alert.told_emails) or "no manager to tag")
        )
    else:
        lines.append("Unmanaged account under $1,500.")
    suspends = attempt.attempted_on + dt.timedelta(days=SUSPEND_AFTER_DAYS)
    lines.append(f"User access is suspended on {suspends:%Y-%m-%d} unless it is paid.")
    return {"text": "\n".join(lines)}


def alert_failed_attempts(attempt_ids: Iterable[int]) -> list[DunningAlert]:
    """Alert each failed attempt of ``attempt_ids`` that has no alert yet; call inside the
    transaction that wrote the attempts. Returns the new alerts.

    At most one alert per attempt (a unique key; ``ON CONFLICT DO NOTHING``), so a
    re-import, a retried API call or two imports racing alert once. The post to
    #sales-alerts is an outbox delivery written here, so it is sent if and only
    if the attempt commits.
    """
    ids = sorted(set(attempt_ids))
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO billing_dunningalert
                (attempt_id, invoice_id, account_id, amount, told, told_emails, created_at)
            SELECT pa.id, i.id, i.account_id, i.amount,
                   CASE WHEN a.owner_id IS NOT NULL THEN 'owner'
                        WHEN i.amount >= %s THEN 'managers' ELSE 'channel' END,
                   '[]'::jsonb, now()
            FROM billing_paymentattempt pa
            JOIN billing_invoice i ON i.id = pa.invoice_id
            JOIN accounts_account a ON a.id = i.account_id
            WHERE pa.id = ANY(%s) AND pa.outcome = 'failed'
            ORDER BY pa.id
            ON CONFLICT (attempt_id) DO NOTHING
            RETURNING id
            """,
            [MANAGERS_TAGGED_FROM, ids],
        )
        new_ids = [row[0] for row in cursor.fetchall()]
    if not new_ids:
        return []
    alerts = list(
        DunningAlert.objects.filter(pk__in=new_ids)
        .select_related("account__owner", "invoice", "attempt")
        .order_by("pk")
    )
    failed_counts = dict(
        PaymentAttempt.objects.filter(
            invoice_id__in={a.invoice_id for a in alerts}, outcome=PaymentAttempt.Outcome.FAILED
        )
        .values("invoice_id")
        .annotate(n=Count("pk"))
        .values_list("invoice_id", "n")
    )
    managers = _manager_emails() if any(a.told == "managers" for a in alerts) else []
    url = settings.SALES_ALERTS_WEBHOOK_URL
    for alert in alerts:
        owner = alert.account.owner
        alert.told_emails = (
            [owner.email]
            if alert.told == DunningAlert.Told.OWNER and owner is not None
            else managers
            if alert.told == DunningAlert.Told.MANAGERS
            else []
        )
        if url:
            alert.delivery = enqueue_delivery(
                kind=PAYMENT_FAILED,
                url=url,
                payload=alert_message(
                    alert, failed_attempts=failed_counts.get(alert.invoice_id, 1)
                ),
            )
        alert.save(update_fields=["told_emails", "delivery"])
    return alerts


@dataclass(frozen=True)
class DunningStep:
    """One step of the handbook's timeline: its day (from the first failure), date and state."""

    day: int
    on: dt.date
    title: str
    detail: str
    state: str  # "done" (its day has passed), "today" or "upcoming"


@dataclass(frozen=True)
class RepeatedFailures:
    """Three or more consecutive missed payment periods: pay ``advance`` (three months) first."""

    periods: tuple[dt.date, ...]
    average_invoice: Decimal
    advance: Decimal


@dataclass(frozen=True)
class DunningCase:
    """An unpaid invoice with at least one failed payment attempt, on ``today``."""

    invoice: Invoice
    late_since: dt.date
    failed_attempts: int
    last_attempt_on: dt.date
    today: dt.date
    repeated: RepeatedFailures | None

    @property
    def day(self) -> int:
        """Calendar days since the payment became late (day 0 is the first failure)."""
        return (self.today - self.late_since).days

    @property
    def suspends_on(self) -> dt.date:
        return self.late_since + dt.timedelta(days=SUSPEND_AFTER_DAYS)

    @property
    def reverts_on(self) -> dt.date:
        return self.suspends_on + dt.timedelta(days=REVERT_AFTER_SUSPENSION_DAYS)

    @property
    def days_to_suspension(self) -> int:
        """Days left before user access is suspended (0 on the day, negative after)."""
        return (self.suspends_on - self.today).days

    @property
    def stage(self) -> str:
        if self.today >= self.reverts_on:
            return "Reverted to the free tier"
        if self.today >= self.suspends_on:
            return "Access suspended"
        if self.day >= SUSPEND_AFTER_DAYS - 1:
            return "Suspension tomorrow"
        return "Payment late"

    @property
    def next_step(self) -> DunningStep | None:
        """Today's step or the next one; None once the subscription is cancelled."""
        return next((s for s in self.steps if s.state != "done"), None)

    @property
    def steps(self) -> list[DunningStep]:
        suspend, revert = SUSPEND_AFTER_DAYS, SUSPEND_AFTER_DAYS + REVERT_AFTER_SUSPENSION_DAYS
        plan = (
            (
                0,
                "Reach out for payment",
                "Known contacts and finance e-mails: pay within 7 calendar days or user access "
                "is suspended; include the invoice or the payment update link.",
            ),
            (
                suspend - 1,
                "Warn every active user",
                "Access will be suspended tomorrow because of the failed payment.",
            ),
            (
                suspend,
                "Suspend user access",
                "Set the organization inactive (\u201cAccess revoked due to an unpaid balance\u201d)"
                " and tell every user; unresolved in 7 days means the free tier.",
            ),
            (
                revert - 1,
                "Warn every contact",
                "The subscription is terminated tomorrow: free-tier limits, data above them is "
                "not kept.",
            ),
            (
                revert,
                "Cancel the subscription",
                "Back to the free tier; the billing service tells them.",
            ),
        )
        steps = []
        for day, title, detail in plan:
            on = self.late_since + dt.timedelta(days=day)
            state = "done" if on < self.today else "today" if on == self.today else "upcoming"
            steps.append(DunningStep(day=day, on=on, title=title, detail=detail, state=state))
        return steps


def _unpaid_failed(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return (
        queryset.filter(status__in=UNPAID, payment_attempts__outcome=PaymentAttempt.Outcome.FAILED)
        .annotate(
            late_since=Min(
                "payment_attempts__attempted_on",
                filter=Q(payment_attempts__outcome=PaymentAttempt.Outcome.FAILED),
            ),
            failed_attempts=Count(
                "payment_attempts",
                filter=Q(payment_attempts__outcome=PaymentAttempt.Outcome.FAILED),
            ),
            last_attempt_on=Max("payment_attempts__attempted_on"),
        )
        .select_related("account__owner")
    )


def repeated_failures(invoices: Sequence[Invoice]) -> RepeatedFailures | None:
    """``REPEATED_MISSED_PERIODS`` or more consecutive missed periods ending at the latest one.

    ``invoices`` are one account's, each annotated ``missed`` (unpaid with a
    failed attempt); a month without an invoice breaks the run. The advance is
    ``ADVANCE_MONTHS`` × the average invoice of the missed run (their typical usage).
    """
    by_period: dict[dt.date, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_period[invoice.period].append(invoice)
    if not by_period:
        return None
    run: list[dt.date] = []
    period = max(by_period)
    while period in by_period and any(getattr(i, "missed", False) for i in by_period[period]):
        run.append(period)
        period = add_months(period, -1)
    if len(run) < REPEATED_MISSED_PERIODS:
        return None
    total = sum(
        (i.amount for p in run for i in by_period[p] if getattr(i, "missed", False)), Decimal(0)
    )
    average = (total / len(run)).quantize(Decimal("0.01"))
    return RepeatedFailures(
        periods=tuple(sorted(run)), average_invoice=average, advance=average * ADVANCE_MONTHS
    )


def dunning_cases(*, accounts: QuerySet[Account], today: dt.date) -> list[DunningCase]:
    """The open dunning cases of ``accounts``, longest late first, in two queries.

    An invoice is in dunning while it is unpaid (open or failed) and has a failed
    attempt; paying or voiding it closes the case.
    """
    return _cases(list(_open_cases(accounts)), today=today)


def _open_cases(accounts: QuerySet[Account]) -> QuerySet[Invoice]:
    return _unpaid_failed(Invoice.objects.filter(account__in=accounts)).order_by(
        "late_since",  # type: ignore[misc]  # an annotation django-stubs cannot see
        "number",
    )


def _cases(invoices: list[Invoice], *, today: dt.date) -> list[DunningCase]:
    """``invoices`` (``_open_cases``' rows) as cases, with each account's repeated
    failures (one query when there are any)."""
    account_ids = {i.account_id for i in invoices}
    history: dict[int, list[Invoice]] = defaultdict(list)
    if account_ids:
        for invoice in (
            Invoice.objects.filter(account_id__in=account_ids)
            .exclude(status=Invoice.Status.VOID)
            .annotate(
                n_failed=Count(
                    "payment_attempts",
                    filter=Q(payment_attempts__outcome=PaymentAttempt.Outcome.FAILED),
                )
            )
            .only("pk", "account_id", "period", "amount", "status")
        ):
            invoice.missed = invoice.status in UNPAID and invoice.n_failed > 0  # type: ignore[attr-defined]
            history[invoice.account_id].append(invoice)
    repeated = {pk: repeated_failures(rows) for pk, rows in history.items()}
    return [
        DunningCase(
            invoice=i,
            late_since=i.late_since,  # type: ignore[attr-defined]
            failed_attempts=i.failed_attempts,  # type: ignore[attr-defined]
            last_attempt_on=i.last_attempt_on,  # type: ignore[attr-defined]
            today=today,
            repeated=repeated.get(i.account_id),
        )
        for i in invoices
    ]


# One account's open cases (the account page's panel, on every visit): the statement
# is compiled once per process and run with the account's id (issue 20).
_ACCOUNT_OPEN_CASES = CompiledOnce(Invoice)


def account_dunning(*, account: Account, today: dt.date) -> list[DunningCase]:
    """``dunning_cases`` of one account (the account page's risk indicator and timeline):
    the same statements, the first compiled once per process."""
    invoices = _ACCOUNT_OPEN_CASES.rows(
        "account",
        lambda account_pk: _open_cases(Account.objects.filter(pk=account_pk)),
        account_pk=account.pk,
    )
    return _cases(invoices, today=today)
