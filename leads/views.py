from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.http import StaffRequest
from revopsweb.dates import company_today
from revopsweb.parsing import page_number

from .followups import NURTURE_DEFAULT_DAYS, FollowUpDateError, nurture_task
from .forms import (
    ConvertForm,
    DisqualifyForm,
    IntakeForm,
    NewTaskForm,
    NurtureForm,
    TeamFilterForm,
    TouchForm,
    UndoAssignmentForm,
)
from .intake import intake_task
from .ledger import (
    AlreadyUndone,
    NothingToUndo,
    latest_round_robin_assignment,
    may_undo,
    undo_task_assignment,
)
from .models import Task, TaskKind, TaskSource
from .permissions import (
    can_see_team_tasks,
    can_work_task,
    workable_tasks,
)
from .scoring import metric_label
from .task_actions import TaskClosedError, convert_task, disqualify_task, touch_task

# Tasks a page on the team view: it grows with the company, the page must not (issue 20).
TEAM_PAGE_SIZE = 50


def lead_task_list() -> Any:
    """Lead tasks with what every task list shows (My tasks, the team view, a task's page)."""
    # One query per list: everything a row shows is joined. Recommendations are
    # tasks too, but live on the account page, not in the lead queues.
    return Task.objects.filter(kind=TaskKind.LEAD).select_related(
        "account", "contact", "assignee", "territory"
    )


# --- Intake -------------------------------------------------------------------

TOO_MANY_SUBMISSIONS = (
    "Too many messages from your network in the last hour. "
    "Please try again later; nothing was sent this time."
)


def _contact_form_rate(group: str, request: HttpRequest) -> str:
    # Read per request so the setting (and a test's override) applies live.
    return str(settings.CONTACT_FORM_RATE)


ViewFunction = Callable[..., HttpResponse]
# django-ratelimit's decorator is untyped; it returns the view it wraps.
_contact_rate_limit: Callable[[ViewFunction], ViewFunction] = ratelimit(
    key="ip", rate=_contact_form_rate, method="POST", block=False
)


@login_not_required
@require_http_methods(["GET", "POST"])
@_contact_rate_limit
def contact(request: HttpRequest) -> HttpResponse:
    """The public contact form; a submission becomes a task and is assigned at once.

    Submissions are limited per client IP (``CONTACT_FORM_RATE``): each one
    takes a place in a territory's round robin, so a flood would skew who
    gets the next real lead. Over the limit, the form comes back as typed,
    with the reason, and nothing is created.
    """
    form = IntakeForm(request.POST or None)
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, TOO_MANY_SUBMISSIONS)
        return render(request, "leads/contact.html", {"form": form, "sent": False}, status=429)
    if request.method == "POST" and form.is_valid():
        intake_task(lead=form.to_lead(), source=TaskSource.CONTACT_FORM)
        return redirect(f"{reverse('leads:contact')}?sent=1")
    # A refused entry comes back with its field errors as a 400 (nothing created).
    status = 400 if form.is_bound else 200
    context = {"form": form, "sent": "sent" in request.GET}
    return render(request, "leads/contact.html", context, status=status)


@require_http_methods(["GET", "POST"])
def new_task(request: StaffRequest) -> HttpResponse:
    """Manual entry of a lead by a logged-in person."""
    form = NewTaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = intake_task(
            lead=form.to_lead(),
            source=form.cleaned_data["source"],
            lead_type=form.cleaned_data["lead_type"],
            created_by=request.user,
        )
        messages.success(request, f"Task created: {result.task.explanation}")
        if can_work_task(request.user, result.task):
            return redirect("leads:task", pk=result.task.pk)
        # Assigned to someone else (a TAM entering a new-business lead for a TAE): the
        # task's page would answer them 404, so they get the form back for the next one,
        # with the message saying who has it.
        return redirect("leads:new_task")
    status = 400 if form.is_bound else 200
    return render(request, "leads/new_task.html", {"form": form}, status=status)


# --- Task lists -----------------------------------------------------------------


@require_GET
def my_tasks(request: StaffRequest) -> HttpResponse:
    """The assignee's open queue, oldest first."""
    tasks = list(lead_task_list().open().filter(assignee=request.user).order_by("created_at", "id"))
    return render(request, "leads/my_tasks.html", {"tasks": tasks})


@require_GET
def team_tasks(request: StaffRequest) -> HttpResponse:
    """All tasks for team leads and managers, filtered by territory, status, assignee, source."""
    if not can_see_team_tasks(request.user):
        raise PermissionDenied("The team view is for team leads and managers.")
    form = TeamFilterForm(request.GET or None)
    tasks = lead_task_list().order_by("-created_at", "-id")
    if form.is_valid():
        data = form.cleaned_data
        if data["territory"]:
            tasks = tasks.filter(territory=data["territory"])
        if data["status"]:
            tasks = tasks.filter(status=data["status"])
        if data["assignee"]:
            tasks = tasks.filter(assignee=data["assignee"])
        if data["source"]:
            tasks = tasks.filter(source=data["source"])
    number = page_number(request.GET.get("page"))
    start = (number - 1) * TEAM_PAGE_SIZE
    # One row past the page says whether an older page exists, without a count.
    rows = list(tasks[start : start + TEAM_PAGE_SIZE + 1])
    filters = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "leads/team_tasks.html",
        {
            "form": form,
            "tasks": rows[:TEAM_PAGE_SIZE],
            "page_number": number,
            "has_older": len(rows) > TEAM_PAGE_SIZE,
            "filters": filters,
            "first_row": start + 1,
            "last_row": start + len(rows[:TEAM_PAGE_SIZE]),
        },
    )


# --- One task -------------------------------------------------------------------


def _get_task_for_user(request: StaffRequest, pk: int) -> Task:
    """The task if the user works it or leads a team; 404 otherwise."""
    return get_object_or_404(workable_tasks(request.user, lead_task_list()), pk=pk)


def _task_context(request: StaffRequest, task: Task, **forms: Any) -> dict[str, Any]:
    assignment = latest_round_robin_assignment(task)
    can_undo = (
        assignment is not None
        and not assignment.undone  # type: ignore[attr-defined]
        and may_undo(request.user, assignment)
    )
    return {
        "task": task,
        "score_rows": [
            (metric_label(metric), points) for metric, points in task.score_breakdown.items()
        ],
        "undo_assignment": assignment if can_undo else None,
        "undo_form": forms.get("undo_form") or UndoAssignmentForm(),
        "events": list(task.events.select_related("actor", "assignee")),
        "touch_form": forms.get("touch_form") or TouchForm(),
        "disqualify_form": forms.get("disqualify_form") or DisqualifyForm(),
        "convert_form": forms.get("convert_form") or ConvertForm(),
        "nurture_form": forms.get("nurture_form")
        or NurtureForm(
            initial={"follow_up_on": company_today() + dt.timedelta(days=NURTURE_DEFAULT_DAYS)}
        ),
        "opportunity": getattr(task, "opportunity", None) if not task.is_open else None,
    }


@require_GET
def task_detail(request: StaffRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    return render(request, "leads/task.html", _task_context(request, task))


def _after_action(
    request: StaffRequest, task: Task, message: str, *, level: int = messages.SUCCESS
) -> HttpResponse:
    messages.add_message(request, level, message)
    if request.htmx:
        task = _get_task_for_user(request, task.pk)
        return render(request, "leads/task.html#task-work", _task_context(request, task))
    return redirect("leads:task", pk=task.pk)


def _invalid(request: StaffRequest, task: Task, **forms: Any) -> HttpResponse:
    """The task page (htmx: its work region) with the form's errors, 422 like every
    form answered with its errors, so htmx swaps it in (static/js/app.js) and moves
    focus to the first field to fix; a 400 was left unswapped behind a toast."""
    template = "leads/task.html#task-work" if request.htmx else "leads/task.html"
    return render(request, template, _task_context(request, task, **forms), status=422)


@require_POST
def task_touch(request: StaffRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    form = TouchForm(request.POST)
    if not form.is_valid():
        return _invalid(request, task, touch_form=form)
    try:
        touch_task(
            task=task,
            actor=request.user,
            kind=form.cleaned_data["kind"],
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except TaskClosedError as exc:
        form.add_error(None, str(exc))
        return _invalid(request, task, touch_form=form)
    return _after_action(request, task, "Task updated.")


@require_POST
def task_disqualify(request: StaffRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    form = DisqualifyForm(request.POST)
    if not form.is_valid():
        return _invalid(request, task, disqualify_form=form)
    try:
        disqualify_task(
            task=task,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            comment=form.cleaned_data["comment"],
            follow_up_on=form.cleaned_data["follow_up_on"],
        )
    except FollowUpDateError as exc:
        form.add_error("follow_up_on", str(exc))
        return _invalid(request, task, disqualify_form=form)
    except TaskClosedError as exc:
        form.add_error(None, str(exc))
        return _invalid(request, task, disqualify_form=form)
    return _after_action(request, task, "Task disqualified.")


@require_POST
def task_nurture(request: StaffRequest, pk: int) -> HttpResponse:
    """Not yet: the task waits in nurturing until its follow-up date (30–60 days)."""
    task = _get_task_for_user(request, pk)
    form = NurtureForm(request.POST)
    if not form.is_valid():
        return _invalid(request, task, nurture_form=form)
    try:
        nurture_task(
            task=task,
            actor=request.user,
            follow_up_on=form.cleaned_data["follow_up_on"],
            note=form.cleaned_data["note"],
        )
    except FollowUpDateError as exc:
        form.add_error("follow_up_on", str(exc))
        return _invalid(request, task, nurture_form=form)
    except TaskClosedError as exc:
        form.add_error(None, str(exc))
        return _invalid(request, task, nurture_form=form)
    return _after_action(request, task, "Task nurtured.")


@require_POST
def task_convert(request: StaffRequest, pk: int) -> HttpResponse:
    task = _get_task_for_user(request, pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return _invalid(request, task, convert_form=form)
    try:
        convert_task(
            task=task,
            actor=request.user,
            record_type=form.cleaned_data["record_type"],
            opportunity_type=form.cleaned_data["type"],
            amount=form.cleaned_data["amount"],
            close_date=form.cleaned_data["close_date"],
        )
    except TaskClosedError as exc:
        form.add_error(None, str(exc))
        return _invalid(request, task, convert_form=form)
    return _after_action(request, task, "Opportunity created.")


@require_POST
def task_undo_assignment(request: StaffRequest, pk: int) -> HttpResponse:
    """Team leads (their team) and managers undo a wrong round-robin assignment,
    with a reason; a second undo says it was already undone."""
    task = _get_task_for_user(request, pk)
    form = UndoAssignmentForm(request.POST)
    if not form.is_valid():
        return _invalid(request, task, undo_form=form)
    try:
        undo_task_assignment(task=task, author=request.user, reason=form.cleaned_data["reason"])
    except AlreadyUndone as exc:
        return _after_action(request, task, str(exc), level=messages.INFO)
    except NothingToUndo as exc:
        form.add_error(None, str(exc))
        return _invalid(request, task, undo_form=form)
    return _after_action(
        request, task, "Assignment undone: the task is back in the unassigned queue."
    )
