"""The accounts app's models: staff (staff.py) and customer accounts with their books, ownership,
contacts, snapshots, tokens and plans (account.py)."""

from .account import (
    ASSIGNABLE_TRAITS,
    Account,
    AccountPlan,
    AccountSnapshot,
    Activity,
    ActivityKind,
    Contact,
    Health,
    IntegrationToken,
    NewOwnerTrait,
    OwnerRole,
    OwnershipChange,
    Plan,
    TopAccount,
    register_token_scope,
    token_scope_choices,
)
from .staff import (
    Region,
    User,
    UserManager,
)

__all__ = [
    "ASSIGNABLE_TRAITS",
    "Account",
    "AccountPlan",
    "AccountSnapshot",
    "Activity",
    "ActivityKind",
    "Contact",
    "Health",
    "IntegrationToken",
    "NewOwnerTrait",
    "OwnerRole",
    "OwnershipChange",
    "Plan",
    "Region",
    "TopAccount",
    "User",
    "UserManager",
    "register_token_scope",
    "token_scope_choices",
]
