"""Role × action matrix of accounts.permissions, the expected answers written out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts import permissions
from accounts.models import Account, NewOwnerTrait, Region, User
from accounts.tests.factories import MATRIX_ROLES, AccountFactory, actor, tam, team_lead

pytestmark = pytest.mark.django_db


@dataclass
class World:
    me: User
    report: User  # a TAM who reports to ``me``
    mine: Account
    team: Account  # owned by ``report``
    other: Account  # owned by a TAM of another team (EU)
    us_tagged: Account  # unowned, tagged US TAM by a manager
    eu_tagged: Account  # unowned, tagged EU TAM by a manager
    boss: User  # a superuser


@pytest.fixture
def world_for() -> Callable[[str], World]:
    def build(kind: str) -> World:
        me = actor(kind, region=Region.US)
        report = tam(team_lead=me, region=Region.US)
        stranger = tam(team_lead=team_lead(region=Region.EU), region=Region.EU)
        return World(
            me=me,
            report=report,
            mine=AccountFactory.create(owner=me, owner_role="TAM"),
            team=AccountFactory.create(owner=report, owner_role="TAM"),
            other=AccountFactory.create(owner=stranger, owner_role="TAM", region=Region.EU),
            us_tagged=AccountFactory.create(new_owner_trait=NewOwnerTrait.US_TAM),
            eu_tagged=AccountFactory.create(new_owner_trait=NewOwnerTrait.EU_TAM),
            boss=actor("superuser"),
        )

    return build


def _assigns(w: World, account: Account, *, top_40: bool = False) -> bool:
    refusal = permissions.assignment_refusal(
        w.me, account=account, new_owner=w.report, is_top_40=top_40
    )
    return refusal == ""


ACTIONS: dict[str, Callable[[World], bool]] = {
    "view own account": lambda w: permissions.visible_accounts(w.me).filter(pk=w.mine.pk).exists(),
    "view team account": lambda w: permissions.visible_accounts(w.me).filter(pk=w.team.pk).exists(),
    "view other team's account": lambda w: (
        permissions.visible_accounts(w.me).filter(pk=w.other.pk).exists()
    ),
    "open a report's book": lambda w: (
        permissions.viewable_book_owners(w.me).filter(pk=w.report.pk).exists()
    ),
    "edit own account": lambda w: permissions.can_edit_account(w.me, w.mine),
    "edit team account": lambda w: permissions.can_edit_account(w.me, w.team),
    "edit other team's account": lambda w: permissions.can_edit_account(w.me, w.other),
    "flag or hand over a team account": lambda w: permissions.is_owner_lead_or_manager(
        w.me, w.team
    ),
    "assign team account to a report": lambda w: _assigns(w, w.team),
    "assign other team's account to a report": lambda w: _assigns(w, w.other),
    "assign account tagged for own region": lambda w: _assigns(w, w.us_tagged),
    "assign account tagged for other region": lambda w: _assigns(w, w.eu_tagged),
    "assign a Top 40 account": lambda w: _assigns(w, w.team, top_40=True),
    "set AM managed": lambda w: permissions.can_set_am_managed(w.me),
    "set new owner trait": lambda w: permissions.can_set_new_owner_trait(w.me),
    "see allocation": lambda w: permissions.can_see_allocation(w.me),
    "import CSVs": lambda w: permissions.can_import_accounts(w.me),
    "change roles and staff status": lambda w: permissions.can_change_access(w.me),
    "set own password": lambda w: permissions.can_set_password_of(w.me, w.me),
    "set a report's password": lambda w: permissions.can_set_password_of(w.me, w.report),
    "edit a superuser's record": lambda w: permissions.may_edit_person(w.me, w.boss),
}

Y, N = True, False
# Columns: TAM, CSM, TAE, team lead, manager, RevOps, superuser.
EXPECTED: dict[str, tuple[bool, ...]] = {
    "view own account": (Y, Y, Y, Y, Y, Y, Y),
    "view team account": (N, N, N, Y, Y, Y, Y),
    "view other team's account": (N, N, N, N, Y, Y, Y),
    "open a report's book": (N, N, N, Y, Y, Y, Y),
    "edit own account": (Y, Y, Y, Y, Y, Y, Y),
    "edit team account": (N, N, N, Y, Y, Y, Y),
    "edit other team's account": (N, N, N, N, Y, Y, Y),
    "flag or hand over a team account": (N, N, N, Y, Y, Y, Y),
    "assign team account to a report": (N, N, N, Y, Y, Y, Y),
    "assign other team's account to a report": (N, N, N, N, Y, Y, Y),
    "assign account tagged for own region": (N, N, N, Y, Y, Y, Y),
    "assign account tagged for other region": (N, N, N, N, Y, Y, Y),
    "assign a Top 40 account": (N, N, N, N, Y, Y, Y),
    "set AM managed": (N, N, N, Y, Y, Y, Y),
    "set new owner trait": (N, N, N, N, Y, Y, Y),
    "see allocation": (N, N, N, Y, Y, Y, Y),
    "import CSVs": (N, N, N, N, Y, Y, Y),
    "change roles and staff status": (N, N, N, N, N, N, Y),
    "set own password": (Y, Y, Y, Y, Y, Y, Y),
    "set a report's password": (N, N, N, N, N, N, Y),
    "edit a superuser's record": (N, N, N, N, N, N, Y),
}

CASES = [
    pytest.param(kind, action, EXPECTED[action][i], id=f"{kind}-{action}")
    for action in ACTIONS
    for i, kind in enumerate(MATRIX_ROLES)
]


def test_the_matrix_covers_every_action():
    assert set(EXPECTED) == set(ACTIONS)


@pytest.mark.parametrize(("kind", "action", "allowed"), CASES)
def test_role_may_or_may_not(world_for, kind, action, allowed):
    assert ACTIONS[action](world_for(kind)) is allowed
