"""The lead rules of sales/lead-scoring ("Product-led sales team" and "New
business sales team" lists) and sales/accounts-overview, as definitions.

A definition says what a rule reads and which thresholds it has; the
threshold *values* are data (``LeadRuleVersion``), edited by RevOps with an
author, a reason and an effective date. The defaults below are the handbook's
numbers; the seed migration stores them as each rule's version 1.

Units: money in dollars (MRR is monthly, ARR is MRR × 12), days and months
counted in the company's time zone, percentages as whole numbers (50 = 50%).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from accounts.models import Plan
from leads.models import LeadType
from leads.scoring import SECOND_COUNTRIES, TOP_COUNTRIES

FieldKind = Literal["money", "int", "percent", "countries", "plans"]


@dataclass(frozen=True)
class Threshold:
    """One editable threshold of a rule."""

    name: str
    label: str
    kind: FieldKind
    default: object
    help: str = ""


@dataclass(frozen=True)
class RuleDefinition:
    key: str
    name: str
    lead_type: str
    handbook: str
    thresholds: tuple[Threshold, ...]
    cooldown_days: int
    # min/max pairs the form checks (lower ≤ upper).
    ranges: tuple[tuple[str, str], ...] = ()

    def defaults(self) -> dict[str, object]:
        return {t.name: t.default for t in self.thresholds}


# "ICP country": the countries sales/lead-scoring scores above zero.
ICP_COUNTRIES = sorted(TOP_COUNTRIES | SECOND_COUNTRIES)

PL_MRR_BAND = "pl_mrr_band"
PL_ICP_SCALE = "pl_icp_scale"
PL_FORECAST_JUMP = "pl_forecast_jump"
PL_UNMANAGED_TICKET = "pl_unmanaged_ticket"
NB_FIRST_SIGNUP = "nb_first_signup"
NB_CREDITS_USED = "nb_credits_used"
NB_ROLLOFF_100_DAYS = "nb_rolloff_100_days"
NB_ROLLOFF_2_MONTHS = "nb_rolloff_2_months"

RULES: tuple[RuleDefinition, ...] = (
    RuleDefinition(
        key=PL_MRR_BAND,
        name="MRR $500–1,667, over 50 employees, over 7 users, ICP country, paying 3+ months",
        lead_type=LeadType.PRODUCT_LED,
        handbook=(
            "Customers with MRR between $500-1,667, employee count > 50, user count > 7, "
            "based in ICP country, and has been paying for at least 3 months"
        ),
        thresholds=(
            Threshold("mrr_min", "MRR at least", "money", "500.00"),
            Threshold("mrr_max", "MRR at most", "money", "1667.00"),
            Threshold("employees_over", "Employees more than", "int", 50),
            Threshold("users_over", "Active users (30 days) more than", "int", 7),
            Threshold("countries", "ICP countries", "countries", ICP_COUNTRIES),
            Threshold(
                "paying_months_min",
                "Paying months in a row at least",
                "int",
                3,
                "Consecutive months with revenue, up to the latest month with revenue data.",
            ),
        ),
        cooldown_days=90,
        ranges=(("mrr_min", "mrr_max"),),
    ),
    RuleDefinition(
        key=PL_ICP_SCALE,
        name="High ICP score on the Scale plan",
        lead_type=LeadType.PRODUCT_LED,
        handbook="Customers who have high ICP score and subscribe to the Scale plan",
        thresholds=(
            Threshold(
                "icp_score_min",
                "ICP score at least",
                "int",
                20,
                "Employee points + country points of sales/lead-scoring (0–30).",
            ),
            Threshold("plans", "Plans", "plans", [Plan.SCALE.value]),
        ),
        cooldown_days=90,
    ),
    RuleDefinition(
        key=PL_FORECAST_JUMP,
        name="MRR over $1K with a forecast increase over 50% this month",
        lead_type=LeadType.PRODUCT_LED,
        handbook="Customers with MRR >$1K and >50% forecasted spend increase this month",
        thresholds=(
            Threshold("mrr_over", "MRR more than", "money", "1000.00"),
            Threshold(
                "increase_over_pct",
                "Forecast increase more than (%)",
                "percent",
                "50",
                "Forecasted MRR of the current period over the latest month's MRR.",
            ),
        ),
        cooldown_days=30,
    ),
    RuleDefinition(
        key=PL_UNMANAGED_TICKET,
        name="Unmanaged, ARR over $20K, raised a support ticket",
        lead_type=LeadType.PRODUCT_LED,
        handbook="Unmanaged customers with >$20K ARR who raise a support ticket",
        thresholds=(
            Threshold("arr_over", "ARR more than", "money", "20000.00"),
            Threshold(
                "ticket_days",
                "Ticket raised within the last (days)",
                "int",
                7,
                "A support ticket activity, or a weekly snapshot with tickets, in this window.",
            ),
        ),
        cooldown_days=30,
    ),
    RuleDefinition(
        key=NB_FIRST_SIGNUP,
        name="First signup from a 500+ employee company, ingested an event, invited a person",
        lead_type=LeadType.NEW_BUSINESS,
        handbook=(
            "First signup from a company with 500+ employees who have ingested at least 1 "
            "event and invited at least 1 person"
        ),
        thresholds=(
            Threshold("employees_min", "Employees at least", "int", 500),
            Threshold("events_min", "Events ingested at least", "int", 1),
            Threshold("invited_min", "People invited at least", "int", 1),
            Threshold(
                "signup_days",
                "Signed up within the last (days)",
                "int",
                30,
                "The account's creation; no older account has the same company domain.",
            ),
        ),
        cooldown_days=180,
    ),
    RuleDefinition(
        key=NB_CREDITS_USED,
        name="50%+ of startup credits used, last invoice over $5,000",
        lead_type=LeadType.NEW_BUSINESS,
        handbook=(
            "Customers who have used 50% or more of their startup credits and had a last "
            "invoice greater than $5000"
        ),
        thresholds=(
            Threshold(
                "used_min_pct",
                "Credits used at least (%)",
                "percent",
                "50",
                "Invoiced during the credit term ÷ (that + remaining balance).",
            ),
            Threshold("last_invoice_over", "Last invoice more than", "money", "5000.00"),
        ),
        cooldown_days=90,
    ),
    RuleDefinition(
        key=NB_ROLLOFF_100_DAYS,
        name="Startup roll-off within ~100 days, last invoice $2k–$5k",
        lead_type=LeadType.NEW_BUSINESS,
        handbook=(
            "Customers set to roll off startup plan in the next ~100 days with last invoice "
            "between $2k–$5k"
        ),
        thresholds=(
            Threshold("within_days", "Credits expire within (days)", "int", 100),
            Threshold("last_invoice_min", "Last invoice at least", "money", "2000.00"),
            Threshold("last_invoice_max", "Last invoice at most", "money", "5000.00"),
        ),
        cooldown_days=90,
        ranges=(("last_invoice_min", "last_invoice_max"),),
    ),
    RuleDefinition(
        key=NB_ROLLOFF_2_MONTHS,
        name="Startup roll-off within two months, last invoice over $1,500",
        lead_type=LeadType.NEW_BUSINESS,
        handbook=(
            "Customers who are set to roll off the startup plan in the next two months and had "
            "a last invoice greater than $1500"
        ),
        thresholds=(
            Threshold("within_months", "Credits expire within (months)", "int", 2),
            Threshold("last_invoice_over", "Last invoice more than", "money", "1500.00"),
        ),
        cooldown_days=60,
    ),
)

RULES_BY_KEY: dict[str, RuleDefinition] = {rule.key: rule for rule in RULES}

# The startup plan's credit term: credits used are what was invoiced from this
# many months before the credits expire. Billing's credit grants (issue 17)
# will carry the grant itself; switch to them when they land.
STARTUP_CREDIT_TERM_MONTHS = 12


def money(value: object) -> Decimal:
    return Decimal(str(value))
