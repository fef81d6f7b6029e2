"""Who may do what with tasks and the round robin: every permission rule of the leads app.

Everyone works their own tasks and records their own time off; team leads,
managers and RevOps (``User.is_team_lead_or_manager``) see every task and
change the tracker (the unassigned queue; weights, adjustments and members).
On the tracker a team lead acts on their own team only (sales/team-leads: the
people who report to them, ``User.team_lead``, and themselves): their rows,
adding them, their time off. Managers and RevOps act on everyone. Pure
functions of the user (and the rows given); views raise PermissionDenied or
404 with them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from accounts.models import User

from .models import Task, TrackerMember


def _on_team_of(lead: User, person: User) -> bool:
    """``person`` reports to ``lead``, or is ``lead``."""
    return person.pk == lead.pk or person.team_lead_id == lead.pk


def workable_tasks(user: User, tasks: QuerySet[Task]) -> QuerySet[Task]:
    """``tasks`` narrowed to the ones ``user`` may open and act on: their own,
    or every task for team leads and managers."""
    return tasks if user.is_team_lead_or_manager else tasks.filter(assignee=user)


def can_work_task(user: User, task: Task) -> bool:
    """``workable_tasks`` for one loaded task."""
    return user.is_team_lead_or_manager or task.assignee_id == user.pk


def can_see_team_tasks(user: User) -> bool:
    """The team view of every task: team leads and managers."""
    return user.is_team_lead_or_manager


def can_edit_tracker(user: User) -> bool:
    """Weights, adjustments, members and the unassigned queue: team leads and managers."""
    return user.is_team_lead_or_manager


def can_see_lead_rules(user: User) -> bool:
    """The lead rules and their figures: team leads, managers and RevOps."""
    return user.is_team_lead_or_manager


def can_edit_lead_rules(user: User) -> bool:
    """A new version of a lead rule: RevOps only."""
    return user.is_revops


def can_edit_member(user: User, member: TrackerMember) -> bool:
    """A member's priority, manual adjustment, active flag and territories (and the
    preview of a change): managers and RevOps anyone's, team leads their own
    team's. ``member.user`` loaded."""
    return person_editor(user)(member.user_id, member.user.team_lead_id)


def person_editor(user: User) -> Callable[[int, int | None], bool]:
    """``can_edit_member`` as a function of (person id, team lead id) for one ``user``,
    whose roles are read once: the tracker asks it of every row (164 at the
    100,000-account seed), and each role check on ``request.user`` goes through its
    lazy wrapper."""
    if user.is_manager:
        return lambda person_id, team_lead_id: True
    if not can_edit_tracker(user):
        return lambda person_id, team_lead_id: False
    pk = user.pk
    return lambda person_id, team_lead_id: person_id == pk or team_lead_id == pk


def tracker_scope(user: User) -> str:
    """Whose people ``user`` acts on in the tracker: ``"all"`` (managers and RevOps),
    ``"team"`` (team leads: themselves and the people who report to them) or
    ``"own"`` (everyone else: themselves). The rules of ``addable_users`` and
    ``time_off_members`` as one value, for statements compiled once per scope."""
    if user.is_manager:
        return "all"
    if can_edit_tracker(user):
        return "team"
    return "own"


def addable_users(user: User) -> QuerySet[User]:
    """People ``user`` may add to the round robin (not in it yet): anyone for
    managers and RevOps, their own team for team leads, nobody else."""
    return addable_users_in(tracker_scope(user), user_pk=user.pk)


def addable_users_in(scope: str, *, user_pk: int) -> QuerySet[User]:
    """``addable_users`` of the user ``user_pk`` whose ``tracker_scope`` is ``scope``."""
    people = User.objects.filter(tracker_member__isnull=True)
    if scope == "all":
        return people
    if scope == "team":
        return people.filter(Q(pk=user_pk) | Q(team_lead=user_pk))
    return people.none()


def time_off_members(user: User) -> QuerySet[TrackerMember]:
    """Tracker members whose time off ``user`` may record: their own; their
    team's for team leads; anyone's for managers and RevOps."""
    return time_off_members_in(tracker_scope(user), user_pk=user.pk)


def time_off_members_in(scope: str, *, user_pk: int) -> QuerySet[TrackerMember]:
    """``time_off_members`` of the user ``user_pk`` whose ``tracker_scope`` is ``scope``."""
    members = TrackerMember.objects.select_related("user")
    if scope == "all":
        return members
    if scope == "team":
        return members.filter(Q(user=user_pk) | Q(user__team_lead=user_pk))
    return members.filter(user=user_pk)


def can_record_time_off(user: User, member: TrackerMember) -> bool:
    """``time_off_members`` for one loaded member (``member.user`` loaded)."""
    if user.is_manager or member.user_id == user.pk:
        return True
    return can_edit_tracker(user) and _on_team_of(user, member.user)
