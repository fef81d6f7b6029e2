from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.http import StaffRequest
from accounts.models import User
from revopsweb.dates import company_today, latest_complete_month

from .assignment import assign_task
from .followups import NURTURE_DEFAULT_DAYS, FollowUpDateError, nurture_task
from .forms import (
    AddMemberForm,
    ConvertForm,
    DisqualifyForm,
    IntakeForm,
    MemberForm,
    NewTaskForm,
    NurtureForm,
    TeamFilterForm,
    TimeOffForm,
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
from .models import Task, TaskKind, TaskSource, Territory, TimeOff, TrackerMember, TrackerRole
from .permissions import (
    can_edit_member,
    can_edit_tracker,
    can_see_team_tasks,
    time_off_members,
    workable_tasks,
)
from .reset import last_period_figures
from .scoring import metric_label
from .task_actions import TaskClosedError, convert_task, disqualify_task, touch_task
from .tracker import (
    MAX_MANUAL_ADJUSTMENT,
    add_member,
    history,
    prefill_adjustment,
    preview_change,
    tracker_rows,
    update_member,
)

TEAM_PAGE_SIZE = 200


def _task_list() -> Any:
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
        return redirect("leads:task", pk=result.task.pk)
    status = 400 if form.is_bound else 200
    return render(request, "leads/new_task.html", {"form": form}, status=status)


# --- Task lists -----------------------------------------------------------------


@require_GET
def my_tasks(request: StaffRequest) -> HttpResponse:
    """The assignee's open queue, oldest first."""
    tasks = list(_task_list().open().filter(assignee=request.user).order_by("created_at", "id"))
    return render(request, "leads/my_tasks.html", {"tasks": tasks})


@require_GET
def team_tasks(request: StaffRequest) -> HttpResponse:
    """All tasks for team leads and managers, filtered by territory, status, assignee, source."""
    if not can_see_team_tasks(request.user):
        raise PermissionDenied("The team view is for team leads and managers.")
    form = TeamFilterForm(request.GET or None)
    tasks = _task_list().order_by("-created_at", "-id")
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
    rows = list(tasks[:TEAM_PAGE_SIZE])
    return render(
        request,
        "leads/team_tasks.html",
        {"form": form, "tasks": rows, "truncated": len(rows) == TEAM_PAGE_SIZE},
    )


# --- One task -------------------------------------------------------------------


def _get_task_for_user(request: StaffRequest, pk: int) -> Task:
    """The task if the user works it or leads a team; 404 otherwise."""
    return get_object_or_404(workable_tasks(request.user, _task_list()), pk=pk)


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
    template = "leads/task.html#task-work" if request.htmx else "leads/task.html"
    return render(request, template, _task_context(request, task, **forms), status=400)


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


# --- Tracker --------------------------------------------------------------------


def _require_lead(request: StaffRequest) -> User:
    user = request.user
    if not can_edit_tracker(user):
        raise PermissionDenied("Only team leads and managers change the round robin.")
    return user


def _require_member_editor(request: StaffRequest, member: TrackerMember) -> User:
    user = _require_lead(request)
    if not can_edit_member(user, member):
        raise PermissionDenied("Team leads change only their own team's tracker rows.")
    return user


def _territory_from(request: StaffRequest) -> Territory:
    slug = request.GET.get("territory") or request.POST.get("territory") or ""
    territories = Territory.objects.all()
    territory = territories.filter(slug=slug).first() if slug else None
    if territory is None:
        territory = territories.filter(tracker_members__isnull=False).first() or territories.first()
    if territory is None:
        raise Http404("No territories yet.")
    return territory


def _tracker_url(territory: Territory) -> str:
    return f"{reverse('leads:tracker')}?territory={territory.slug}"


def _row_context(
    request: StaffRequest,
    territory: Territory,
    *,
    territories: list[Territory] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The member rows; ``territories`` (all of them) spares the query when the caller has it."""
    can_edit = can_edit_tracker(request.user)
    rows = tracker_rows(territory=territory)
    forms = extra.pop("forms", {})
    all_territories: list[Territory] = []
    if can_edit:
        all_territories = territories if territories is not None else list(Territory.objects.all())
    user = request.user
    for row in rows:
        # A team lead edits their own team's rows; the others read as for a TAM.
        editable = can_edit and can_edit_member(user, row.member)
        form = forms.get(row.member.pk) or (MemberForm.for_member(row.member) if editable else None)
        row.form = form
        if form is not None:
            chosen = {str(getattr(t, "pk", t)) for t in (form["territories"].value() or [])}
            row.options = [(t, str(t.pk) in chosen) for t in all_territories]
    return {
        "territory": territory,
        "rows": rows,
        "can_edit": can_edit,
        "max_adjustment": MAX_MANUAL_ADJUSTMENT,
        **extra,
    }


def _tracker_context(request: StaffRequest, territory: Territory, **extra: Any) -> dict[str, Any]:
    user = request.user
    can_edit = can_edit_tracker(user)
    add_form = extra.pop("add_form", None)
    if add_form is None and can_edit:
        add_form = AddMemberForm.for_user(
            user,
            initial={
                "territories": [territory],
                "role": TrackerRole.TAE,
                "manual_adjustment": prefill_adjustment(
                    role=TrackerRole.TAE, territories=[territory]
                ),
            },
        )
    time_off_form = extra.pop("time_off_form", None) or TimeOffForm(
        initial={"member": getattr(user, "tracker_member", None)}
    )
    _time_off_members_of(time_off_form, user)
    territories = list(Territory.objects.all())
    rows = _row_context(request, territory, territories=territories, **extra)
    in_territory = {row.member.pk for row in rows["rows"]}
    today = company_today()
    return {
        **rows,
        # Last month's final figures stay visible after the monthly reset.
        "last_month": latest_complete_month(today),
        "last_month_figures": [
            f for f in last_period_figures(today=today) if f.member_id in in_territory
        ],
        "territories": territories,
        "add_form": add_form,
        "time_off_form": time_off_form,
        "history": history(territory=territory),
        "queue": list(
            _task_list()
            .unassigned()
            .filter(Q(territory=territory) | Q(territory__isnull=True))
            .order_by("created_at")[:100]
        ),
        "time_off": list(
            TimeOff.objects.filter(
                member__territories=territory, ends_on__gte=company_today()
            ).select_related("member__user")
        ),
    }


def _time_off_members_of(form: TimeOffForm, user: User) -> None:
    field = form.fields["member"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = time_off_members(user)


@require_GET
def tracker(request: StaffRequest) -> HttpResponse:
    """The Lead Assignment Tracker: editable by team leads, read-only for everyone else."""
    territory = _territory_from(request)
    return render(request, "leads/tracker.html", _tracker_context(request, territory))


@require_POST
def member_update(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TrackerMember.objects.select_related("user"), pk=pk)
    author = _require_member_editor(request, member)
    territory = _territory_from(request)
    form = MemberForm.for_member(member, request.POST)
    if not form.is_valid():
        ctx = _row_context(request, territory, forms={member.pk: form})
        if request.htmx:
            return render(request, "leads/tracker.html#member-rows", ctx, status=400)
        full = _tracker_context(request, territory, forms={member.pk: form})
        return render(request, "leads/tracker.html", full, status=400)
    data = form.cleaned_data
    events = update_member(
        member=member,
        author=author,
        reason=data["reason"] or "changed on the tracker page",
        priority=data["priority"],
        manual_adjustment=data["manual_adjustment"],
        is_active=data["is_active"],
        territories=list(data["territories"]),
    )
    messages.success(
        request,
        f"{member.user}: "
        + (
            ", ".join(f"{e.get_kind_display()} {e.old_value} → {e.new_value}" for e in events)
            or "nothing changed"
        ),
    )
    if request.htmx:
        return render(request, "leads/tracker.html#member-rows", _row_context(request, territory))
    return redirect(_tracker_url(territory))


@require_GET
def member_preview(request: StaffRequest, pk: int) -> HttpResponse:
    """Who gets the next 20 tasks if the unsaved values of this row were saved."""
    member = get_object_or_404(TrackerMember.objects.select_related("user"), pk=pk)
    _require_member_editor(request, member)
    territory = _territory_from(request)
    form = MemberForm.for_member(member, request.GET)
    overrides: dict[int, dict[str, Any]] = {}
    if form.is_valid():
        overrides[member.pk] = {
            "priority": form.cleaned_data["priority"],
            "manual_adjustment": form.cleaned_data["manual_adjustment"],
            "is_active": form.cleaned_data["is_active"],
        }
    current, proposed = preview_change(territory=territory, role=member.role, overrides=overrides)
    preview = {
        "member": member,
        "role": TrackerRole(member.role).label,
        "valid": form.is_valid(),
        "current": current,
        "proposed": proposed,
    }
    if request.htmx:
        return render(
            request, "leads/tracker.html#preview", {"preview": preview, "territory": territory}
        )
    ctx = _tracker_context(request, territory, forms={member.pk: form}, preview=preview)
    return render(request, "leads/tracker.html", ctx)


@require_GET
def member_prefill(request: StaffRequest) -> HttpResponse:
    """The mid-month adjustment for the add-member form's role, territories and priority."""
    _require_lead(request)
    role = request.GET.get("role", TrackerRole.TAE)
    territories = Territory.objects.filter(pk__in=request.GET.getlist("territories"))
    try:
        priority = max(1, int(request.GET.get("priority", "1")))
    except ValueError:
        priority = 1
    value = prefill_adjustment(role=role, territories=territories, priority=priority)
    return render(
        request,
        "leads/tracker.html#prefill",
        {"prefill": value, "max_adjustment": MAX_MANUAL_ADJUSTMENT},
    )


@require_POST
def member_add(request: StaffRequest) -> HttpResponse:
    author = _require_lead(request)
    territory = _territory_from(request)
    form = AddMemberForm.for_user(author, data=request.POST)
    if not form.is_valid():
        return render(
            request,
            "leads/tracker.html",
            _tracker_context(request, territory, add_form=form),
            status=400,
        )
    data = form.cleaned_data
    territories = list(data["territories"])
    adjustment = data["manual_adjustment"]
    if adjustment is None:
        adjustment = prefill_adjustment(
            role=data["role"], territories=territories, priority=data["priority"]
        )
    member = add_member(
        user=data["user"],
        role=data["role"],
        territories=territories,
        priority=data["priority"],
        manual_adjustment=adjustment,
        author=author,
        reason=data["reason"],
    )
    messages.success(request, f"{member.user} joined the round robin with adjustment {adjustment}.")
    return redirect(_tracker_url(territory))


@require_POST
def time_off_add(request: StaffRequest) -> HttpResponse:
    """Members record their own time off; team leads record anyone's."""
    user = request.user
    territory = _territory_from(request)
    form = TimeOffForm(request.POST)
    _time_off_members_of(form, user)
    if not form.is_valid():
        return render(
            request,
            "leads/tracker.html",
            _tracker_context(request, territory, time_off_form=form),
            status=400,
        )
    time_off = form.save(commit=False)
    time_off.created_by = user
    time_off.save()
    messages.success(
        request,
        f"Time off recorded for {time_off.member.user}: off from {time_off.leave_on:%d %b}, "
        f"back on {time_off.return_on:%d %b}.",
    )
    return redirect(_tracker_url(territory))


@require_POST
def queue_assign(request: StaffRequest, pk: int) -> HttpResponse:
    """Run the round robin again for a task waiting in the unassigned queue."""
    author = _require_lead(request)
    task = get_object_or_404(Task.objects.unassigned(), pk=pk)
    territory = _territory_from(request)
    decision = assign_task(task=task, author=author)
    if decision.assignee is None:
        messages.warning(request, f"Still unassigned: {decision.unassigned_reason}")
    else:
        messages.success(request, f"Assigned to {decision.assignee}: {decision.explanation}")
    return redirect(_tracker_url(territory))
