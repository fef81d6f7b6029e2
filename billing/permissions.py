"""Who may see and change revenue figures: every permission rule of the billing app.

Revenue and quota figures are for TAMs, team leads, managers and RevOps (a TAM
sees only their own quota row); monthly revenue imports are RevOps' (and a
superuser's). Pure functions of the user's roles; views raise PermissionDenied.
"""

from __future__ import annotations

from accounts.models import User
from accounts.roles import Role

# What the refusal page says, one sentence per predicate below.
REVENUE_REFUSAL = "Revenue figures are for TAMs, team leads, managers and RevOps."
QUOTA_REFUSAL = "Quota is for TAMs (their own row), team leads, managers and RevOps."
IMPORT_REFUSAL = "Monthly revenue is imported by RevOps."
FACTS_IMPORT_REFUSAL = (
    "Billing facts (invoices, payment attempts, credits, …) are imported by RevOps."
)


def can_see_revenue(user: User) -> bool:
    """The revenue page, its CSV and charts: TAMs, team leads, managers, RevOps."""
    return user.is_team_lead_or_manager or user.has_role(Role.TAM)


def can_see_quota(user: User) -> bool:
    """The quota page at all (a TAM gets only their own row)."""
    return user.is_team_lead_or_manager or user.has_role(Role.TAM)


def can_see_every_quota(user: User) -> bool:
    """Every TAM's quota row and the team totals: team leads, managers, RevOps."""
    return user.is_team_lead_or_manager


def can_import_revenue(user: User) -> bool:
    """Monthly revenue imports (page, API tokens aside): RevOps only."""
    return user.is_revops


def can_import_billing_facts(user: User) -> bool:
    """Billing fact imports (invoices, payment attempts, credits, …; page and command): RevOps."""
    return user.is_revops


def can_see_dunning(user: User) -> bool:
    """The dunning queue: every signed-in person, each seeing the accounts they may open
    (``accounts.permissions.visible_accounts``: managers and RevOps all, team leads their
    team's, owners their own book)."""
    return user.is_active
