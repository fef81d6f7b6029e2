"""The account page and what it posts: notes, recommendations, book state, Ready to move,
account plans."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.revenue_data import RevenueDataThrough, revenue_data_through
from leads.models import Task, TaskKind
from leads.recommendations import (
    RecommendationError,
    action_recommendation,
    default_due_on,
    give_recommendation,
    open_recommendations,
)
from revopsweb.dates import company_today
from revopsweb.forms import Form, ModelForm
from revopsweb.sql import CompiledOnce

from .books import set_book_state, set_ready_to_move
from .extensions import account_panels, has_mark, mark_annotations
from .http import StaffRequest
from .models import (
    Account,
    AccountPlan,
    AccountSnapshot,
    Activity,
    OwnershipChange,
    TopAccount,
)
from .permissions import (
    can_edit_account,
    can_set_am_managed,
    former_account,
    is_owner_lead_or_manager,
    visible_accounts,
    visible_accounts_in,
    visible_accounts_scope,
)
from .plans import add_note, start_quarter_plan
from .segments import (
    Segment,
    account_chart,
    rank_top_accounts_if_unranked,
    segments_of,
    sparkline_months,
    with_revenue,
)

_RELATED = ("owner", "tam_overlay", "onboarding_specialist", "territory")
# The account marks (accounts.extensions) the page shows, columns of its statement:
# a query of its own cost more Python than the rest of the page's lists (issue 20).
_MARKS = ("churn_risk",)
# The column of the page's statement saying whether the month's Top 40 is stored.
_TOP_40_STORED = "top_40_stored"


@functools.lru_cache(maxsize=4)
def _every_account_with_revenue(*, today: dt.date, month: dt.date) -> Any:
    # Never evaluated: only ever cloned by .filter() (so no result cache is shared).
    # Resolving with_revenue's expressions was a third of the page's Python time
    # (pyinstrument, 10,000 accounts; issue 20): built once per process and day.
    # Whether the month's Top 40 is stored comes with the row (_visible_or_none
    # stores it when it is not), as a column the statement works out once.
    return with_revenue(
        Account.objects.select_related(*_RELATED), today=today, month=month, rank_top_40=False
    ).annotate(
        **mark_annotations(*_MARKS),
        **{_TOP_40_STORED: Exists(TopAccount.objects.filter(month=month))},
    )


# The account page's statement by (today, month, the viewer's scope). Its dates,
# amounts and statuses written in as literals (revopsweb.sql._inline_constants):
# its one generic plan is then estimated with them, not with guesses at 66
# parameters (0.7-0.8 ms per execution against 1.0-1.2 ms; issue 20).
_ACCOUNT_PAGES = CompiledOnce(Account)


def _visible_or_none(
    request: StaffRequest, pk: int, *, month: dt.date | None = None
) -> Account | None:
    today = company_today()
    if month is None:  # the month is read from the data: nothing to keep
        return (
            with_revenue(visible_accounts(request.user).select_related(*_RELATED), today=today)
            .annotate(**mark_annotations(*_MARKS))
            .filter(pk=pk)
            .first()
        )
    account = _read_visible(request, pk, today=today, month=month)
    if account is not None and not getattr(account, _TOP_40_STORED):
        # The kept statement reads the stored Top 40: the month has none yet (its job
        # has not run), so store it (one statement) and read the row again, instead
        # of a statement on every request to store it if need be (issue 20).
        rank_top_accounts_if_unranked(month=month)
        account = _read_visible(request, pk, today=today, month=month)
    return account


def _read_visible(
    request: StaffRequest, pk: int, *, today: dt.date, month: dt.date
) -> Account | None:
    """Account ``pk`` with its revenue figures, marks and whether the Top 40 of
    ``month`` is stored (``top_40_stored``), if ``request.user`` may open it. One query."""
    # Compiled once per process for each rule of who may open an account (the
    # person's scope) and run with the person's id: compiling their permission
    # filter on every request was a tenth of the page's Python time (cProfile,
    # issue 20). Managers' statement has no filter, so no id.
    scope = visible_accounts_scope(request.user)
    build = functools.partial(_account_rows, today=today, month=month, scope=scope)
    viewer = {} if scope == "all" else {"viewer_pk": request.user.pk}
    found = _ACCOUNT_PAGES.rows((today, month, scope), build, account_pk=pk, **viewer)
    return found[0] if found else None


def _account_rows(
    *, today: dt.date, month: dt.date, scope: str, account_pk: int, viewer_pk: int = 0
) -> Any:
    """The account page's statement: account ``account_pk`` if the viewer ``viewer_pk``,
    whose ``visible_accounts_scope`` is ``scope``, may open it."""
    rows = _every_account_with_revenue(today=today, month=month).filter(pk=account_pk)
    if scope != "all":
        rows = rows.filter(pk__in=visible_accounts_in(scope, user_pk=viewer_pk).values("pk"))
    return (rows if rows.ordered else rows.order_by("pk"))[:1]  # as first() does


def _visible_account(request: StaffRequest, pk: int, *, month: dt.date | None = None) -> Account:
    account = _visible_or_none(request, pk, month=month)
    if account is None:
        raise Http404("This account does not exist, or it is not in your book or your team's.")
    return account


def _editable_account(request: StaffRequest, pk: int) -> Account:
    account = _visible_account(request, pk)
    if not can_edit_account(request.user, account):
        raise PermissionDenied("Not your book.")
    return account


class _UnboundRenderedOnce(Form):
    """A form whose empty (unbound) HTML is rendered once per process for each set of
    initial values: the account page shows two such forms on every visit, and their
    widget and field templates were a tenth of its Python time (pyinstrument, seed
    clone; issue 20). A bound form (one with the person's input or errors), or one
    made with another prefix or id format, renders as usual."""

    def as_div(self) -> SafeString:
        if self.is_bound or self.prefix is not None or self.auto_id != "id_%s":
            return super().as_div()
        return _unbound_html(type(self), tuple(sorted(self.initial.items())))


@functools.lru_cache(maxsize=64)
def _unbound_html(form_class: type[_UnboundRenderedOnce], initial: tuple[Any, ...]) -> SafeString:
    return forms.Form.as_div(form_class(initial=dict(initial)))


class NoteForm(_UnboundRenderedOnce):
    summary = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


# The account page lists the latest tasks; older ones are on the team task view.
ACCOUNT_PAGE_TASKS = 20
# The account page's latest notes and weeks of health.
ACCOUNT_PAGE_NOTES = 50
ACCOUNT_PAGE_WEEKS = 12

# The account page's lists of one account, each compiled once per process and run
# with the account's id (revopsweb.sql.CompiledOnce): compiling them on every
# request was about half of the page's Python time at the seed's scale
# (pyinstrument; issue 20). Their builders depend on nothing but the id.
_HISTORY = CompiledOnce(OwnershipChange)
_PLANS = CompiledOnce(AccountPlan)
_TASKS = CompiledOnce(Task)
_WEEKS = CompiledOnce(AccountSnapshot)
_NOTES = CompiledOnce(Activity)
_RECOMMENDATIONS = CompiledOnce(Task)


def _history(account_pk: int) -> Any:
    return OwnershipChange.objects.filter(account=account_pk).select_related(
        "previous_owner", "new_owner", "actor"
    )


def _plans(account_pk: int) -> Any:
    return AccountPlan.objects.filter(account=account_pk).select_related("author")


def _lead_tasks(account_pk: int) -> Any:
    return (
        Task.objects.filter(account=account_pk, kind=TaskKind.LEAD)
        .select_related("assignee")
        .order_by("-created_at")[:ACCOUNT_PAGE_TASKS]
    )


def _weeks(account_pk: int) -> Any:
    return AccountSnapshot.objects.filter(account=account_pk).order_by("-week")[:ACCOUNT_PAGE_WEEKS]


def _notes(account_pk: int) -> Any:
    return (
        Activity.objects.filter(account=account_pk)
        .select_related("author")
        .order_by("-occurred_at", "-id")[:ACCOUNT_PAGE_NOTES]
    )


def _open_recommendations(account_pk: int) -> Any:
    return open_recommendations(Account(pk=account_pk))


@require_GET
def account_detail(request: StaffRequest, pk: int) -> HttpResponse:
    through = revenue_data_through(today=company_today())
    account = _visible_or_none(request, pk, month=through.figures_month)
    if account is None:
        former = former_account(request.user, pk)
        if former is None:
            raise Http404("This account does not exist, or it is not in your book or your team's.")
        return _moved_page(request, former)
    return render(
        request, "accounts/account.html", _account_context(request, account, through=through)
    )


def _moved_page(request: StaffRequest, account: Account) -> HttpResponse:
    """What a former owner sees: who owns the account now and since when."""
    latest = account.ownership_changes.order_by("-at", "-pk").first()
    return render(request, "accounts/moved.html", {"account": account, "latest": latest})


def _account_context(
    request: StaffRequest,
    account: Account,
    *,
    through: RevenueDataThrough | None = None,
    **extra: Any,
) -> dict[str, Any]:
    today = company_today()
    through = through or revenue_data_through(today=today)
    months = sparkline_months(through.figures_month)
    last = months[-1]
    found = account_chart(account_id=account.pk, months=months)
    by_product: dict[str, dict[str, str]] = defaultdict(dict)
    # Each product's MRR by billing configuration ($0 on startup credits, less the
    # credit discount under an enterprise purchase), not its raw usage.
    for month, name, amount in found.rows:
        by_product[name][month.isoformat()] = str(amount)
    chart = {
        "labels": [m.strftime("%b %Y") for m in months],
        "datasets": [
            {"label": name, "data": [values.get(m.isoformat(), "0") for m in months]}
            for name, values in by_product.items()
        ],
    }
    ctx = {
        "segments": [Segment.LABELS[s] for s in segments_of(account)],
        "paid": found.paid,
        "churn_risk": has_mark(account, "churn_risk"),
        "can_flag": is_owner_lead_or_manager(request.user, account),
        "panels": account_panels(),
        "chart": chart,
        "history": _HISTORY.rows("history", _history, account_pk=account.pk),
        "plans": _PLANS.rows("plans", _plans, account_pk=account.pk),
        "tasks": _TASKS.rows("lead tasks", _lead_tasks, account_pk=account.pk),
        "health_history": _WEEKS.rows("weeks", _weeks, account_pk=account.pk),
        "month": last,
        "through": through,
    }
    ctx.update(_recommendations_context(request, account))
    ctx.update(_notes_context(request, account, **extra))
    return ctx


class RecommendationForm(_UnboundRenderedOnce):
    text = forms.CharField(
        label="Recommendation",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you advised the customer to do.",
    )
    due_on = forms.DateField(
        label="Due",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Default: in two weeks. Not actioned by then (and 2+ weeks old) raises a churn signal.",
    )


def _recommendations_context(
    request: StaffRequest, account: Account, form: RecommendationForm | None = None
) -> dict[str, Any]:
    """What the account page's ``recommendations`` partial needs (htmx swaps)."""
    return {
        "account": account,
        "recommendations": _RECOMMENDATIONS.rows(
            "open", _open_recommendations, account_pk=account.pk
        ),
        "can_edit": can_edit_account(request.user, account),
        "recommendation_form": form
        or RecommendationForm(initial={"due_on": default_due_on(today=company_today())}),
        "today": company_today(),
    }


def _recommendations_answer(
    request: StaffRequest,
    account: Account,
    *,
    form: RecommendationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if request.htmx:
        ctx = _recommendations_context(request, account, form)
        return render(request, "accounts/account.html#recommendations", ctx, status=status)
    if status != 200:
        ctx = _account_context(request, account)
        ctx.update(_recommendations_context(request, account, form))
        return render(request, "accounts/account.html", ctx, status=status)
    return redirect("accounts:account", pk=account.pk)


@require_POST
def account_recommend(request: StaffRequest, pk: int) -> HttpResponse:
    """Record a recommendation given to the customer (owner, overlay, their lead, managers)."""
    account = _editable_account(request, pk)
    form = RecommendationForm(request.POST)
    if form.is_valid():
        try:
            give_recommendation(
                account=account,
                by=request.user,
                text=form.cleaned_data["text"],
                due_on=form.cleaned_data["due_on"],
            )
        except RecommendationError as exc:
            form.add_error("due_on" if "due" in str(exc) else "text", str(exc))
    if form.errors:
        return _recommendations_answer(request, account, form=form, status=422)
    messages.success(request, "Recommendation recorded.")
    return _recommendations_answer(request, account)


@require_POST
def recommendation_actioned(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark a recommendation actioned by the customer; it closes."""
    task = get_object_or_404(
        Task.objects.filter(
            kind=TaskKind.RECOMMENDATION, account__in=visible_accounts(request.user)
        ),
        pk=pk,
    )
    account = _editable_account(request, task.account_id)
    try:
        action_recommendation(task=task, by=request.user, note=request.POST.get("note", ""))
    except RecommendationError as exc:
        messages.info(request, str(exc))
    else:
        messages.success(request, "Recommendation actioned.")
    return _recommendations_answer(request, account)


def _notes_context(request: StaffRequest, account: Account, **extra: Any) -> dict[str, Any]:
    """What the account page's ``notes`` partial needs, and no more (htmx swaps)."""
    ctx = {
        "account": account,
        "notes": _NOTES.rows("notes", _notes, account_pk=account.pk),
        "can_edit": can_edit_account(request.user, account),
        "note_form": NoteForm(),
    }
    ctx.update(extra)
    return ctx


@require_POST
def account_add_note(request: StaffRequest, pk: int) -> HttpResponse:
    account = _editable_account(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            ctx = _notes_context(request, account, note_form=form)
            return render(request, "accounts/account.html#notes", ctx, status=422)
        ctx = _account_context(request, account, note_form=form)
        return render(request, "accounts/account.html", ctx, status=422)
    add_note(
        account=account,
        author=request.user,
        summary=form.cleaned_data["summary"],
        body=form.cleaned_data["body"],
    )
    messages.success(request, "Note added.")
    if request.htmx:
        return render(request, "accounts/account.html#notes", _notes_context(request, account))
    return redirect("accounts:account", pk=account.pk)


class BookStateForm(Form):
    am_managed = forms.BooleanField(required=False, label="AM managed (counts for quota)")
    is_lead = forms.BooleanField(
        required=False, label="Leads (working it, not in the managed book)"
    )


@require_POST
def account_book_state(request: StaffRequest, pk: int) -> HttpResponse:
    """Set AM managed (team leads, managers) and the Leads state (the book's owner)."""
    user = request.user
    account = _editable_account(request, pk)
    form = BookStateForm(request.POST)
    form.is_valid()
    set_book_state(
        account=account,
        by=user,
        am_managed=form.cleaned_data["am_managed"] if can_set_am_managed(user) else None,
        is_lead=form.cleaned_data["is_lead"],
    )
    messages.success(request, "Book state saved.")
    return redirect("accounts:account", pk=account.pk)


class ReadyToMoveForm(Form):
    ready = forms.BooleanField(required=False)


@require_POST
def account_ready_to_move(request: StaffRequest, pk: int) -> HttpResponse:
    """The owner TAE marks their account Ready to move (or takes it back)."""
    account = _visible_account(request, pk)
    form = ReadyToMoveForm(request.POST)
    form.is_valid()
    try:
        set_ready_to_move(account=account, by=request.user, ready=form.cleaned_data["ready"])
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Marked Ready to move: it is in the allocation queue."
            if form.cleaned_data["ready"]
            else "No longer Ready to move.",
        )
    return redirect("accounts:account", pk=account.pk)


@require_POST
def account_start_plan(request: StaffRequest, pk: int) -> HttpResponse:
    account = _editable_account(request, pk)
    plan = start_quarter_plan(
        account=account,
        author=request.user,
        today=company_today(),
    )
    return redirect("accounts:plan", pk=plan.pk)


class PlanForm(ModelForm[AccountPlan]):
    class Meta:
        model = AccountPlan
        fields = (
            "overview",
            "objectives",
            "stakeholders",
            "products_cross_sell",
            "risks",
            "action_items",
            "plan_above_20k",
            "levers_tried",
            "no_viable_levers",
        )
        widgets = {  # noqa: RUF012
            name: forms.Textarea(attrs={"rows": 5})
            for name in (
                "overview",
                "objectives",
                "stakeholders",
                "products_cross_sell",
                "risks",
                "action_items",
                "levers_tried",
            )
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("no_viable_levers") and not (data.get("levers_tried") or "").strip():
            self.add_error("levers_tried", "Document what you tried before declaring no levers.")
        return data


@require_http_methods(["GET", "POST"])
def plan_edit(request: StaffRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        AccountPlan.objects.select_related("account"),
        pk=pk,
        account__in=visible_accounts(request.user),
    )
    editable = can_edit_account(request.user, plan.account)
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied("Not your book.")
        if form.is_valid():
            form.save()
            messages.success(request, "Plan saved.")
            return redirect("accounts:plan", pk=plan.pk)
    return render(
        request,
        "accounts/plan.html",
        {"plan": plan, "form": form, "editable": editable},
        status=422 if form.errors else 200,
    )
