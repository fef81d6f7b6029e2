"""Role × action matrix of leads.permissions, the expected answers written out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts import permissions as account_permissions
from accounts.models import User
from accounts.tests.factories import MATRIX_ROLES, actor, tam
from leads import permissions
from leads.models import OPEN_STATUSES, Task, TrackerMember
from leads.tests.factories import TaskFactory, member

pytestmark = pytest.mark.django_db


@dataclass
class World:
    me: User
    my_task: Task
    their_task: Task
    my_member: TrackerMember
    their_member: TrackerMember
    team_member: TrackerMember
    teammate_to_add: User
    outsider_to_add: User


@pytest.fixture
def world_for() -> Callable[[str], World]:
    def build(kind: str) -> World:
        me, colleague = actor(kind), tam()
        return World(
            me=me,
            my_task=TaskFactory.create(assignee=me),
            their_task=TaskFactory.create(assignee=colleague),
            my_member=member(user=me),
            # Another team's: the colleague reports to nobody here.
            their_member=member(user=colleague),
            team_member=member(user=tam(team_lead=me)),
            teammate_to_add=tam(team_lead=me),
            outsider_to_add=tam(),
        )

    return build


def _opens(w: World, task: Task) -> bool:
    return permissions.workable_tasks(w.me, Task.objects.all()).filter(pk=task.pk).exists()


ACTIONS: dict[str, Callable[[World], bool]] = {
    "open own task": lambda w: _opens(w, w.my_task),
    "open another's task": lambda w: _opens(w, w.their_task),
    "work own task": lambda w: permissions.can_work_task(w.me, w.my_task),
    "work another's task": lambda w: permissions.can_work_task(w.me, w.their_task),
    "see the team view": lambda w: permissions.can_see_team_tasks(w.me),
    "edit the tracker": lambda w: permissions.can_edit_tracker(w.me),
    "record own time off": lambda w: permissions.can_record_time_off(w.me, w.my_member),
    "record another's time off": lambda w: permissions.can_record_time_off(w.me, w.their_member),
    "pick another in the time-off form": lambda w: (
        permissions.time_off_members(w.me).filter(pk=w.their_member.pk).exists()
    ),
    "record a teammate's time off": lambda w: permissions.can_record_time_off(w.me, w.team_member),
    "pick a teammate in the time-off form": lambda w: (
        permissions.time_off_members(w.me).filter(pk=w.team_member.pk).exists()
    ),
    "edit own tracker row": lambda w: permissions.can_edit_member(w.me, w.my_member),
    "edit a teammate's tracker row": lambda w: permissions.can_edit_member(w.me, w.team_member),
    "edit another team's tracker row": lambda w: permissions.can_edit_member(w.me, w.their_member),
    "add a teammate to the tracker": lambda w: (
        permissions.addable_users(w.me).filter(pk=w.teammate_to_add.pk).exists()
    ),
    "add another team's person to the tracker": lambda w: (
        permissions.addable_users(w.me).filter(pk=w.outsider_to_add.pk).exists()
    ),
}

Y, N = True, False
# Columns: TAM, CSM, TAE, team lead, manager, RevOps, superuser.
EXPECTED: dict[str, tuple[bool, ...]] = {
    "open own task": (Y, Y, Y, Y, Y, Y, Y),
    "open another's task": (N, N, N, Y, Y, Y, Y),
    "work own task": (Y, Y, Y, Y, Y, Y, Y),
    "work another's task": (N, N, N, Y, Y, Y, Y),
    "see the team view": (N, N, N, Y, Y, Y, Y),
    "edit the tracker": (N, N, N, Y, Y, Y, Y),
    "record own time off": (Y, Y, Y, Y, Y, Y, Y),
    # Team leads act on their own team only (sales/team-leads); managers and RevOps everyone.
    "record another's time off": (N, N, N, N, Y, Y, Y),
    "pick another in the time-off form": (N, N, N, N, Y, Y, Y),
    "record a teammate's time off": (N, N, N, Y, Y, Y, Y),
    "pick a teammate in the time-off form": (N, N, N, Y, Y, Y, Y),
    "edit own tracker row": (N, N, N, Y, Y, Y, Y),
    "edit a teammate's tracker row": (N, N, N, Y, Y, Y, Y),
    "edit another team's tracker row": (N, N, N, N, Y, Y, Y),
    "add a teammate to the tracker": (N, N, N, Y, Y, Y, Y),
    "add another team's person to the tracker": (N, N, N, N, Y, Y, Y),
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


def test_the_accounts_rules_open_the_accounts_of_exactly_the_open_tasks():
    # accounts.permissions names the open statuses itself (it does not import leads).
    assert set(account_permissions.OPEN_TASK_STATUSES) == set(OPEN_STATUSES)
