"""The round-robin tracker page and its actions: member edits with a preview of
the next 20, new members with the mid-month prefill, time off and the
unassigned queue (revops/lead-assignment-tracker). The rules are in
``leads.tracker``, ``leads.time_off`` and ``leads.assignment``; these views are thin."""

from __future__ import annotations

import datetime as dt
import functools
from html import escape as html_escape
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_POST

from accounts.http import StaffRequest
from accounts.models import User
from revopsweb.dates import company_today, latest_complete_month
from revopsweb.formats import moment
from revopsweb.links import path_for_pk
from revopsweb.sql import CompiledOnce
from revopsweb.widgets import PlainSelect

from .assignment import assign_task
from .forms import (
    AddMemberForm,
    MemberForm,
    MemberPreviewForm,
    TimeOffForm,
)
from .models import LeadType, Task, TaskKind, Territory, TimeOff, TrackerMember, TrackerRole
from .permissions import (
    addable_users_in,
    can_edit_member,
    can_edit_tracker,
    person_editor,
    time_off_members,
    time_off_members_in,
    tracker_scope,
)
from .reset import last_period_figures
from .tracker import (
    MAX_MANUAL_ADJUSTMENT,
    TeamGroup,
    TrackerRow,
    add_member,
    group_key,
    history,
    level_prefill,
    prefill_adjustment,
    preview_change,
    row_colleague_loads,
    tracker_groups,
    tracker_rows,
    update_member,
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


def _territories_and_pick(request: StaffRequest) -> tuple[list[Territory], Territory]:
    """Every territory (for the page's pickers) and the one the page shows, from one
    query: the requested one (``territory`` in the query string or the form), else the
    first with members, else the first. Raises ``Http404`` when there is no territory."""
    slug = request.GET.get("territory") or request.POST.get("territory") or ""
    territories = _TERRITORIES.rows("covered", _covered_territories)
    territory = next((t for t in territories if slug and t.slug == slug), None)
    if territory is None:
        # ``covered``: the annotation of _covered_territories.
        covered = (t for t in territories if t.covered)  # type: ignore[attr-defined]
        territory = next(covered, None) or next(iter(territories), None)
    if territory is None:
        raise Http404("No territories yet.")
    return territories, territory


# Every page of the tracker reads them: compiled once per process (revopsweb.sql.CompiledOnce).
_TERRITORIES = CompiledOnce(Territory)


def _covered_territories() -> Any:
    """Every territory, each with ``covered``: whether a tracker member covers it."""
    covered = TrackerMember.territories.through.objects.filter(territory=OuterRef("pk"))
    return Territory.objects.annotate(covered=Exists(covered))


def _territory_from(request: StaffRequest) -> Territory:
    """The territory the request is about, by ``_territories_and_pick``'s rule."""
    return _territories_and_pick(request)[1]


def _tracker_url(territory: Territory) -> str:
    return f"{reverse('leads:tracker')}?territory={territory.slug}"


def _edit_href(page: str, pk: int) -> str:
    """The tracker page ``page`` (``_tracker_url``) with member ``pk``'s row editable,
    scrolled to it: the "Edit" link without JavaScript."""
    return f"{page}&edit={pk}#member-{pk}"


def _row_context(
    request: StaffRequest,
    territory: Territory,
    *,
    territories: list[Territory] | None = None,
    today: dt.date | None = None,
    edit: int | None = None,
    open_group: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The member rows, grouped by role and team, read-only but for the one being
    edited: ``edit`` (a member pk, the page's ``?edit=``) or the one a form in
    ``forms`` (pk → bound form, a refused save) is for, when the viewer may edit it.
    Only open groups show their rows (``_opens``, plus ``open_group``, a group key).
    ``territories`` (all of them) spares the query when the caller has it."""
    can_edit = can_edit_tracker(request.user)
    rows = tracker_rows(territory=territory, today=today, territories=territories)
    forms = extra.pop("forms", {})
    all_territories: list[Territory] = []
    user = request.user
    # One reverse per link kind, not one per row (as on My book, issue 20).
    edit_path = path_for_pk("leads:member_edit")
    # The "Edit" link's two addresses, built here once per row rather than from five
    # lookups each in the template.
    in_territory = f"?territory={territory.slug}"
    editor = person_editor(user)
    page_path = _tracker_url(territory)
    for row in rows:
        # A team lead edits their own team's rows; the others read as for a TAM.
        row.editable = can_edit and editor(row.user_id, row.team_lead_id)
        if not row.editable:
            continue
        pk = row.member_id
        row.edit_path = edit_path(pk) + in_territory
        row.edit_href = _edit_href(page_path, pk)
        # One row's inputs at most: every editable row with its form (1,321 inputs for a
        # team lead at the 100,000-account seed) made the page 430 KB (issue 20).
        form = forms.get(pk) or (
            MemberForm.for_member(row.member, territory_ids=row.territory_ids)
            if pk == edit
            else None
        )
        if form is None:
            continue
        if not all_territories:
            all_territories = (
                territories if territories is not None else list(Territory.objects.all())
            )
        row.form = form
        chosen = {str(getattr(t, "pk", t)) for t in (form["territories"].value() or [])}
        row.options = [(t, str(t.pk) in chosen) for t in all_territories]
        row.preview_path = reverse("leads:member_preview", args=[pk])
        row.update_path = reverse("leads:member_update", args=[pk])
    # One group per role (each has its own round robin and next in line), and in it
    # one per team: only the open ones render their rows, so the page does not grow
    # with the territory's members (164 rows in one territory of the 100,000-account seed).
    groups = tracker_groups(rows)
    tracker_path = reverse("leads:tracker")
    for role_group in groups:
        for team in role_group.teams:
            team.open = team.key == open_group or _opens(user.pk, team)
            team.header = _team_header(
                team, tracker_path=tracker_path, territory=territory, can_edit=can_edit
            )
            if team.open:
                for row in team.rows:
                    if row.form is None:
                        row.html = _read_only_row(row, can_edit=can_edit)
                # In one piece when no row of the group is edited: the template's loop
                # cost four lookups a row (97 open rows for the demo team lead; issue 20).
                if all(row.form is None for row in team.rows):
                    team.html = SafeString("".join(row.html for row in team.rows))
    return {
        "territory": territory,
        "rows": rows,
        "groups": groups,
        "can_edit": can_edit,
        "max_adjustment": MAX_MANUAL_ADJUSTMENT,
        **extra,
    }


def _team_header(
    team: TeamGroup, *, tracker_path: str, territory: Territory, can_edit: bool
) -> SafeString:
    """A group's header row, as the ``team-group`` partial wrote it: the team's name, its
    count of members, of active ones and of leads here this month, who is next in line
    among them, and, for a collapsed group, the link that shows its rows (htmx: in
    place, ``part=group``; without JavaScript: the page with the group open).

    Written here for the reason ``_read_only_row`` gives: the header's lookups and
    filters cost a third of the member rows' rendering once the rows came written
    (issue 20). Text escaped as autoescape did; counts printed as ``{% localize off %}``
    and ``pluralize`` printed them."""
    key = html_escape(team.key)
    count, leads = team.count, team.leads_here
    next_name = team.next_name
    next_in_line = f" · next in line: {html_escape(next_name)}" if next_name else ""
    link = ""
    if not team.open:
        page = f"{html_escape(tracker_path)}?territory={html_escape(territory.slug)}"
        link = (
            f'\n  <a href="{page}&amp;group={key}#group-{key}" class="small"\n'
            f'  hx-get="{page}&amp;group={key}&amp;part=group" hx-target="#group-{key}"\n'
            f'  hx-swap="outerHTML">Show the {count} member{_plural(count)}</a>'
        )
    return SafeString(
        f'<tr class="team-group" id="group-{key}" data-testid="team-group">'
        f'<th colspan="{10 if can_edit else 9}" scope="rowgroup">\n'
        f"  {html_escape(team.team_name)}: {count} member{_plural(count)},"
        f" {int(team.active)} active, {int(leads)}\n"
        f"  lead{_plural(leads)} here this month{next_in_line}\n"
        f"  {link}</th></tr>"
    )


def _plural(count: int) -> str:
    """``pluralize``'s suffix for a count: "s" but for one."""
    return "" if count == 1 else "s"


def _read_only_row(row: TrackerRow, *, can_edit: bool) -> SafeString:
    """A member's read-only row of the tracker table, as the ``team-group`` partial
    shows it: name (and "next"), territories, priority, manual adjustment, active (and
    time off), leads this month, load, share here, target, then the "Edit" link when
    ``row.editable``, or "another team's" for a viewer who edits (``can_edit``) others.

    Written here rather than in the template: a row's twenty-odd template lookups
    cost about 140 µs, half of the page's rendering for a team lead's 97 open rows
    at the 100,000-account seed (issue 20). Text is escaped as the template's
    autoescape did (``django.utils.html.escape`` is ``html.escape``); numbers are
    ints, printed as ``{% localize off %}`` printed them."""
    pk = row.member_id
    name = html_escape(row.name)
    badges = _badges(tuple(row.territory_names))
    next_badge = ' <span class="badge good">next</span>' if row.next_in_line else ""
    time_off = '\n<span class="badge">time off</span>' if row.on_time_off else ""
    if row.editable:
        edit = (
            f'\n<td><a href="{html_escape(row.edit_href)}" class="small"'
            f' hx-get="{html_escape(row.edit_path)}" hx-target="#member-{pk}" hx-swap="outerHTML"'
            f'\naria-label="Edit {name}">Edit</a></td>'
        )
    else:
        edit = "<td><small>another team's</small></td>" if can_edit else ""
    return SafeString(
        f'\n<tr id="member-{pk}"><td>{name}{next_badge}</td>\n'
        f'<td>{badges}</td><td class="num">{int(row.priority)}</td>\n'
        f'<td class="num">{int(row.manual_adjustment)}</td>'
        f"<td>{'yes' if row.is_active else 'no'}{time_off}</td>"
        f'<td class="num">{int(row.leads_this_month)}</td><td class="num">{int(row.load)}</td>\n'
        f'<td class="num">{row.share_percent}% <small>({int(row.leads_here)})</small></td>\n'
        f'<td class="num">{row.target_percent}%</td>{edit}</tr>\n'
    )


@functools.lru_cache(maxsize=1024)
def _badges(names: tuple[str, ...]) -> str:
    """A row's territory badges, escaped: once per process for each list of names
    (members share a few; escaping them row by row was some 460 escapes a request)."""
    return "".join(f'<span class="badge">{html_escape(name)}</span>' for name in names)


def _opens(user_id: int, team: TeamGroup) -> bool:
    """A group is open by default when the viewer acts on it: their own team (a team
    lead's), the group with their own row, or the one with the row being edited."""
    return team.team_id == user_id or any(
        row.user_id == user_id or row.form is not None for row in team.rows
    )


def _group_param(request: StaffRequest) -> str | None:
    """``?group=`` (a group key, ``leads.tracker.group_key``), or None."""
    return request.GET.get("group") or None


def _tracker_context(
    request: StaffRequest,
    territory: Territory,
    *,
    territories: list[Territory] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    user = request.user
    can_edit = can_edit_tracker(user)
    today = company_today()
    add_form = extra.pop("add_form", None)
    show_last_month = extra.pop("last_month", False)
    time_off_choices = _time_off_choices(user)
    # The viewer's own member by default: everyone may record their own time off, so it
    # is among the choices when they are in the tracker (no query of its own).
    own = next((pk for pk, _, person in time_off_choices if person == user.pk), None)
    time_off_form = extra.pop("time_off_form", None) or TimeOffForm(initial={"member": own})
    if territories is None:
        territories = list(Territory.objects.all())
    rows = _row_context(request, territory, territories=territories, today=today, **extra)
    if add_form is None and can_edit:
        # The prefill's colleagues are the territory's members the rows just read.
        loads = row_colleague_loads(rows["rows"], role=TrackerRole.TAE, today=today)
        add_form = AddMemberForm(
            initial={
                "territories": [territory],
                "role": TrackerRole.TAE,
                "manual_adjustment": level_prefill(loads=loads),
            },
        )
        # The page writes its people from values by the same rule (_add_user_select,
        # addable_users_in), and only the post validates against AddMemberForm.for_user's
        # queryset; building that queryset cost about 0.5 ms a page (issue 20). Nobody
        # otherwise, so the field itself can never list other people.
        _offer_nobody(add_form, "user")
    if not time_off_form.is_bound:
        # Its options are written from values by the rule time_off_add validates with
        # (_time_off_choices, time_off_members_in), as for the add form's people.
        _offer_nobody(time_off_form, "member")
    return {
        **rows,
        # Last month's final figures stay visible after the monthly reset: one row
        # per member of the territory, so only when asked for (?last_month=1).
        "last_month": latest_complete_month(today),
        "last_month_figures": last_period_figures(today=today, territory=territory)
        if show_last_month
        else None,
        "territories": territories,
        "add_form": add_form,
        "time_off_form": time_off_form,
        "time_off_options": _time_off_options(
            time_off_choices, chosen=str(time_off_form["member"].value())
        ),
        "territory_options": _territory_options(territories, chosen=territory),
        **(_add_form_options(add_form, territories) if add_form is not None else {}),
        "add_user_select": _add_user_select(add_form, user) if add_form is not None else "",
        "add_reason": _field_html(add_form["reason"]) if add_form is not None else "",
        "time_off_fields": _time_off_fields(time_off_form),
        "history_rows": _history_rows(territory),
        # The queue is for those who run the round robin (the template shows it to them only).
        "queue": _queue_rows(request, territory) if can_edit else "",
        "time_off": _TIME_OFF.rows(
            today,
            lambda territory_pk: TimeOff.objects.filter(
                member__territories=territory_pk, ends_on__gte=today
            ).select_related("member__user"),
            territory_pk=territory.pk,
        ),
    }


def _history_rows(territory: Territory) -> SafeString:
    """The history table's rows (``leads.tracker.history``) in one piece, each as the
    ``history-rows`` partial wrote it: when, who ("system" for no author), member, what
    (with its delta signed), old → new, why; "" for none. Written here rather than in
    the template for the reason ``_read_only_row`` gives (50 rows of template lookups,
    about 5 ms; issue 20), and joined here rather than by a template loop (one lookup
    and render a row); text escaped as autoescape did."""
    rows = []
    # Each moment written once: a month's resets share theirs (the 50 rows of the demo
    # team lead's territory at the 100,000-account seed have one).
    moments: dict[dt.datetime, str] = {}
    for entry in history(territory=territory):
        delta = f" ({entry.delta:+d})" if entry.delta else ""
        when = moments.get(entry.at)
        if when is None:
            when = moments[entry.at] = html_escape(moment(entry.at))
        rows.append(
            f"\n    <tr><td>{when}</td>"
            f"<td>{html_escape(entry.actor_name or 'system')}</td>"
            f"<td>{html_escape(entry.member_name)}</td>\n"
            f"    <td>{html_escape(entry.kind_label)}{delta}</td>\n"
            f"    <td>{html_escape(entry.old_value)} → {html_escape(entry.new_value)}</td>"
            f"<td>{html_escape(entry.reason)}</td></tr>\n  "
        )
    return SafeString("".join(rows))


# The unassigned queue and the time off under the rows, compiled once per process and
# run with the territory's id (revopsweb.sql.CompiledOnce; the time off's statement
# per day): compiling them was about 2 ms of Python each per request, for the same
# SQL (issue 20).
_QUEUE = CompiledOnce(Task)
_TIME_OFF = CompiledOnce(TimeOff)


def _queue(territory_pk: int) -> Any:
    """The queue's tasks: what its rows show, and no more (not the tasks' JSON, pool
    and score breakdown, nor the contact, assignee and territory the task lists join),
    as (task id, account id, created at, account name, lead type, why unassigned)."""
    return (
        Task.objects.filter(kind=TaskKind.LEAD)
        .unassigned()
        .filter(Q(territory=territory_pk) | Q(territory__isnull=True))
        .order_by("created_at")
        .values_list(
            "pk", "account_id", "created_at", "account__name", "lead_type", "unassigned_reason"
        )[:100]
    )


_LEAD_TYPES: dict[str, str] = dict(LeadType.choices)


def _queue_rows(request: StaffRequest, territory: Territory) -> SafeString:
    """The unassigned queue's rows (``_queue``) in one piece ("" for none), each as the
    template's loop wrote it:
    when (linking to the task), account (linking to it), lead type, why unassigned, and
    the "Run round robin" form, a plain post with the request's CSRF token and the
    territory. Written here for the reason ``_read_only_row`` gives: 24 rows of
    template lookups, a CSRF input and a filter each at the 100,000-account seed
    (issue 20). One token for every row's form: any masked token of the request's
    secret passes the check, as the template's one per form did. Text escaped as
    autoescape did."""
    task_path, account_path = path_for_pk("leads:task"), path_for_pk("accounts:account")
    assign_path = path_for_pk("leads:queue_assign")
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{html_escape(get_token(request))}">'
    slug = html_escape(territory.slug)
    return SafeString(
        "".join(
            f'\n    <tr>\n      <td><a href="{html_escape(task_path(pk))}">'
            f"{html_escape(moment(created_at))}</a></td>\n"
            f'      <td><a href="{html_escape(account_path(account_id))}">{html_escape(name)}</a>'
            f"</td><td>{html_escape(_LEAD_TYPES.get(lead_type, lead_type))}</td>\n"
            f"      <td>{html_escape(reason)}</td>\n"
            f'      <td><form method="post" action="{html_escape(assign_path(pk))}" class="inline">'
            f'{csrf}<input type="hidden" name="territory"\n          value="{slug}">'
            f'<button type="submit" class="small">Run round robin</button></form></td>\n'
            "    </tr>\n  "
            for pk, account_id, created_at, name, lead_type, reason in _QUEUE.tuples(
                "queue", _queue, territory_pk=territory.pk
            )
        )
    )


def _territory_options(territories: list[Territory], *, chosen: Territory) -> SafeString:
    """The territory picker's options (slug, name), ``chosen`` selected, as the
    template's loop wrote them: one of the loops of lookups this page wrote per request
    (issue 20). Text escaped as autoescape did."""
    return SafeString(
        "".join(
            f'<option value="{html_escape(t.slug)}"{" selected" if t.pk == chosen.pk else ""}>'
            f"{html_escape(t.name)}</option>"
            for t in territories
        )
    )


def _add_form_options(form: AddMemberForm, territories: list[Territory]) -> dict[str, SafeString]:
    """The add form's role options (its value selected) and territory options (its
    initial territories selected: none after a refused add, whose form has no initial),
    as the template's loops wrote them (``add_role_options``, ``add_territory_options``)."""
    role = form["role"].value()
    field = form.fields["role"]
    assert isinstance(field, forms.ChoiceField)
    # The field's normalised choices: (value, label) pairs, as the template looped over.
    choices = cast("list[tuple[str, str]]", field.choices)
    roles = "".join(
        f'<option value="{html_escape(str(value))}"{_ROLE_SELECTED if role == value else ""}>'
        f"{html_escape(str(label))}</option>"
        for value, label in choices
    )
    chosen = {getattr(t, "pk", t) for t in form.initial.get("territories") or []}
    options = "".join(
        f'<option value="{t.pk}"{_TERRITORY_SELECTED if t.pk in chosen else ""}>'
        f"{html_escape(t.name)}</option>"
        for t in territories
    )
    return {"add_role_options": SafeString(roles), "add_territory_options": SafeString(options)}


# " selected" as the template wrote it in each of the add form's selects (its line breaks).
_ROLE_SELECTED = "\n          selected"
_TERRITORY_SELECTED = "\n            selected"


def _offer_nobody(form: forms.BaseForm, name: str) -> None:
    """Field ``name`` of an unbound ``form`` whose options the page writes from values
    offers nobody itself."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
    field.queryset = field.queryset.none()


# The HTML of an unbound form's field without an initial value, by form class, name and
# id: the same on every page, and each widget renders two templates (about 0.2 ms of
# the tracker's rendering each; issue 20).
_UNBOUND_FIELDS: dict[tuple[type[forms.BaseForm], str, str], str] = {}


def _field_html(bound: forms.BoundField) -> str:
    """``bound``'s widget as ``{{ field }}`` writes it; for an unbound form's field
    without an initial value, written once per process."""
    if bound.form.is_bound or bound.initial is not None:
        return str(bound)
    key = (type(bound.form), bound.html_name, bound.auto_id)
    html = _UNBOUND_FIELDS.get(key)
    if html is None:
        html = _UNBOUND_FIELDS[key] = str(bound)
    return html


def _time_off_fields(form: TimeOffForm) -> SafeString:
    """The time-off form's fields after the member (first days, note), each as the
    template's loop wrote it: ``<label>label widget errors</label>``, text escaped as
    autoescape did."""
    return SafeString(
        "".join(
            f"<label>{conditional_escape(bound.label)} {_field_html(bound)} {bound.errors}</label>"
            for bound in form
            if bound.name != "member"
        )
    )


def _time_off_members_of(form: TimeOffForm, user: User) -> None:
    field = form.fields["member"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = time_off_members(user)


def _time_off_choices(user: User) -> list[tuple[int, str, int]]:
    """The time-off form's member options as (pk, label, the member's user id), labelled
    as the field's choices are (``TrackerMember.__str__``), read as values: a team
    lead's select lists their whole team (132 at the 100,000-account seed), and
    Django's widget renders a template per option."""
    roles = dict(TrackerRole.choices)
    scope = tracker_scope(user)
    members = _TIME_OFF_MEMBERS.tuples(
        scope,
        lambda user_pk=0: time_off_members_in(scope, user_pk=user_pk).values_list(
            "pk", "user__name", "user__email", "role", "user_id"
        ),
        **_scope_values(scope, user),
    )
    return [
        (pk, f"{name or email} ({roles.get(role, role)})", user_id)
        for pk, name, email, role, user_id in members
    ]


# The time-off form's members and the add form's people, compiled once per process and
# scope (revopsweb.sql.CompiledOnce), run with the viewer's id.
_TIME_OFF_MEMBERS = CompiledOnce(TrackerMember)
_ADDABLE_USERS = CompiledOnce(User)


def _scope_values(scope: str, user: User) -> dict[str, int]:
    """The values a statement of ``scope`` runs with: the user's id, but for "all",
    which reads everyone's."""
    return {} if scope == "all" else {"user_pk": user.pk}


def _time_off_options(choices: list[tuple[int, str, int]], *, chosen: str) -> SafeString:
    """The time-off form's member options (``_time_off_choices``), the one whose value
    is ``chosen`` selected, written as the template's loop wrote them: 131 options of
    template lookups for a team lead at the 100,000-account seed (issue 20)."""
    options = []
    for pk, label, _ in choices:
        value = str(pk)
        selected = "\n    selected" if value == chosen else ""
        options.append(
            f'<option value="{html_escape(value)}"{selected}>{html_escape(label)}</option>'
        )
    return SafeString("".join(options))


def _add_user_select(form: AddMemberForm, user: User) -> SafeString:
    """The add form's person select as Django's widget writes it (its attributes:
    invalid and described by its errors after a refused add), the empty choice, then
    each person of ``addable_users`` labelled as the field's choices are
    (``User.__str__``), the form's value selected: ``PlainSelect`` over the people read
    as values, by the statement compiled for the viewer's scope. Django's widget read
    them through a server-side cursor and rendered a template per option (issue 20)."""
    bound = form["user"]
    field = bound.field
    assert isinstance(field, forms.ModelChoiceField)
    scope = tracker_scope(user)
    # Nobody for the others (the page shows them no add form): no statement to run.
    people = (
        _ADDABLE_USERS.tuples(
            scope,
            lambda user_pk=0: addable_users_in(scope, user_pk=user_pk).values_list(
                "pk", "name", "email"
            ),
            **_scope_values(scope, user),
        )
        if scope != "own"
        else []
    )
    widget = PlainSelect(
        choices=[("", field.empty_label), *((pk, name or email) for pk, name, email in people)]
    )
    return bound.as_widget(widget=widget)


def _edit_param(request: StaffRequest) -> int | None:
    """The member pk of ``?edit=`` (the row shown with its form), or None."""
    value = request.GET.get("edit", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


@require_GET
def tracker(request: StaffRequest) -> HttpResponse:
    """The Lead Assignment Tracker: editable by team leads, read-only for everyone else.
    ``?edit=<member pk>`` shows that row with its form (the "Edit" link without
    JavaScript); a row the viewer may not edit stays read-only. ``?group=<key>``
    opens that group of rows on the page (a collapsed group's link without
    JavaScript); with ``part=group`` from htmx, just that group's rows.
    ``?last_month=1`` shows last month's figures (htmx: ``part=last-month``)."""
    territories, territory = _territories_and_pick(request)
    group = _group_param(request)
    if request.htmx and group and request.GET.get("part") == "group":
        # One collapsed group opened (htmx): its rows only, figured over the whole
        # territory (share, target and next in line are per role).
        ctx = _row_context(request, territory, territories=territories, open_group=group)
        team = next((t for g in ctx["groups"] for t in g.teams if t.key == group), None)
        if team is None:
            raise Http404("No such group in this territory.")
        return render(request, "leads/tracker.html#team-group", {**ctx, "team": team})
    if request.htmx and request.GET.get("part") == "last-month":
        today = company_today()
        figures = last_period_figures(today=today, territory=territory)
        return render(
            request,
            "leads/tracker.html#last-month",
            {
                "territory": territory,
                "last_month": latest_complete_month(today),
                "last_month_figures": figures,
            },
        )
    context = _tracker_context(
        request,
        territory,
        territories=territories,
        edit=_edit_param(request),
        open_group=group,
        last_month=request.GET.get("last_month") == "1",
    )
    return render(request, "leads/tracker.html", context)


@require_GET
def member_edit(request: StaffRequest, pk: int) -> HttpResponse:
    """One row's form, loaded on demand: for htmx the ``member-edit`` partial (the row
    and its preview slot, in place of the read-only row); otherwise the page with
    that row editable. 403 for a row the user may not edit."""
    member = get_object_or_404(TrackerMember.objects.select_related("user"), pk=pk)
    _require_member_editor(request, member)
    territories, territory = _territories_and_pick(request)
    if not request.htmx:
        return redirect(_edit_href(_tracker_url(territory), member.pk))
    # The row's figures (load, share, next in line) come from the whole territory's rows.
    ctx = _row_context(request, territory, territories=territories, edit=member.pk)
    row = next((r for r in ctx["rows"] if r.member.pk == member.pk), None)
    if row is None:
        raise Http404("Not a member of this territory.")
    return render(request, "leads/tracker.html#member-edit", {**ctx, "row": row})


@require_POST
def member_update(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(TrackerMember.objects.select_related("user"), pk=pk)
    author = _require_member_editor(request, member)
    territories, territory = _territories_and_pick(request)
    form = MemberForm.for_member(member, request.POST)
    if not form.is_valid():
        if request.htmx:
            # 422, the app's answer to an htmx form with field errors (static/js/app.js
            # swaps it in): on a 400 django-htmx's debug script, loaded when DEBUG is
            # on (the quick start), replaced the whole page with these rows.
            ctx = _row_context(request, territory, territories=territories, forms={member.pk: form})
            return render(request, "leads/tracker.html#member-rows", ctx, status=422)
        full = _tracker_context(
            request, territory, territories=territories, forms={member.pk: form}
        )
        return render(request, "leads/tracker.html", full, status=400)
    data = form.cleaned_data
    events = update_member(
        member=member,
        author=author,
        reason=data["reason"],
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
    saved_group = group_key(role=member.role, team_id=member.user.team_lead_id)
    if request.htmx:
        # The rows (load, share, next in line) and the history below them both
        # changed: the history comes along as an out-of-band swap. The saved
        # member's group stays open.
        rows = render_to_string(
            "leads/tracker.html#member-rows",
            _row_context(request, territory, open_group=saved_group),
            request=request,
        )
        history_rows = render_to_string(
            "leads/tracker.html#history-rows",
            {"history_rows": _history_rows(territory), "oob": True},
            request=request,
        )
        return HttpResponse(rows + history_rows)
    return redirect(f"{_tracker_url(territory)}&group={saved_group}#member-{member.pk}")


@require_GET
def member_preview(request: StaffRequest, pk: int) -> HttpResponse:
    """Who gets the next 20 tasks if the unsaved values of this row were saved."""
    member = get_object_or_404(TrackerMember.objects.select_related("user"), pk=pk)
    _require_member_editor(request, member)
    territory = _territory_from(request)
    form = MemberPreviewForm.for_member(member, request.GET)
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
    # Ids only: anything else a hand-edited URL carries names no territory (it was a 500).
    ids = [v for v in request.GET.getlist("territories") if v.isascii() and v.isdigit()]
    territories = Territory.objects.filter(pk__in=ids)
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
