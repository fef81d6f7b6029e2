"""The billing app's models: revenue (revenue.py), invoices and what follows a payment (invoices.py),
billing terms (terms.py)."""

from .invoices import (
    DunningAlert,
    Invoice,
    PaymentAttempt,
    RefundRequest,
)
from .revenue import (
    PAID_PRODUCT_MIN,
    AccountMonthMrr,
    Consolidation,
    MonthlyRevenue,
    Product,
)
from .summary import RevenueMonthSummary, RevenueMover, RevenueSummaryDirty
from .terms import (
    OVERRIDE_CREDIT_REASONS,
    AnnualContract,
    CreditGrant,
    CreditGrantKind,
    CreditReason,
    ExclusionStatus,
    ForecastMrr,
    FourWeekReason,
    OneTimeCredit,
    OptimisationExclusion,
    Trial,
    TrialExtension,
    TrialKind,
    TrialOutcome,
)

__all__ = [
    "AccountMonthMrr",
    "AnnualContract",
    "Consolidation",
    "CreditGrant",
    "CreditGrantKind",
    "CreditReason",
    "DunningAlert",
    "ExclusionStatus",
    "ForecastMrr",
    "FourWeekReason",
    "Invoice",
    "MonthlyRevenue",
    "OVERRIDE_CREDIT_REASONS",
    "OneTimeCredit",
    "OptimisationExclusion",
    "PAID_PRODUCT_MIN",
    "PaymentAttempt",
    "Product",
    "RefundRequest",
    "RevenueMonthSummary",
    "RevenueMover",
    "RevenueSummaryDirty",
    "Trial",
    "TrialExtension",
    "TrialKind",
    "TrialOutcome",
]
