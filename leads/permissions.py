"""Who may do what with tasks and the round robin: every permission rule of the leads app.

Everyone works their own tasks and records their own time off; team leads,
managers and RevOps (``User.is_team_lead_or_manager``) see every task, change
the tracker (weights, adjustments, members, the unassigned queue) and record
anyone's time off. Pure functions of the user (and the rows given); views
raise PermissionDenied or 404 with them.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User

from .models import Task, TrackerMember


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


def time_off_members(user: User) -> QuerySet[TrackerMember]:
    """Tracker members whose time off ``user`` may record: their own, or anyone's
    for team leads and managers."""
    members = TrackerMember.objects.select_related("user")
    return members if user.is_team_lead_or_manager else members.filter(user=user)


def can_record_time_off(user: User, member: TrackerMember) -> bool:
    """``time_off_members`` for one loaded member."""
    return user.is_team_lead_or_manager or member.user_id == user.pk
