"""Staff roles. Each role is a Django group of the same name."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    TAE = "TAE", "TAE"
    TAM = "TAM", "TAM"
    CSM = "CSM", "CSM"
    ONBOARDING = "Onboarding specialist", "Onboarding specialist"
    BDR = "BDR", "BDR"
    TEAM_LEAD = "Team lead", "Team lead"
    MANAGER = "Manager", "Manager"
    REVOPS = "RevOps", "RevOps"


# Roles that may change other people's books, tracker weights, allocations and
# handovers.
LEAD_ROLES = frozenset({Role.TEAM_LEAD, Role.MANAGER, Role.REVOPS})
MANAGER_ROLES = frozenset({Role.MANAGER, Role.REVOPS})
# Roles that hold a book of accounts with targets; the others may own a few
# accounts but are measured on something else.
BOOK_ROLES = frozenset({Role.TAM, Role.CSM, Role.TAE})


# What each role may do through the admin and model permissions. Row-level
# rules (a TAM edits only their own book) live in each app's permission
# helpers; these are the coarse, per-model grants.
_VIEW_ALL = ("view",)
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Role.TAE: _VIEW_ALL,
    Role.TAM: _VIEW_ALL,
    Role.CSM: _VIEW_ALL,
    Role.ONBOARDING: _VIEW_ALL,
    Role.BDR: _VIEW_ALL,
    Role.TEAM_LEAD: ("view", "change"),
    Role.MANAGER: ("view", "add", "change"),
    Role.REVOPS: ("view", "add", "change", "delete"),
}
ROLE_APPS = ("accounts", "handovers", "churn", "billing", "leads", "revopsweb")


def ensure_role_groups() -> None:
    """Create one group per role with its model permissions. Idempotent."""
    from django.contrib.auth.models import Group, Permission

    permissions = list(
        Permission.objects.filter(content_type__app_label__in=ROLE_APPS).select_related(
            "content_type"
        )
    )
    for role, actions in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([p for p in permissions if p.codename.split("_", 1)[0] in actions])
