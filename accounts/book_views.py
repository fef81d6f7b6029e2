"""Pages for books of business: My book and its export, planning, allocation, import.

The account page and its posts are in ``account_views``."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from decimal import Decimal
from html import escape as html_escape
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import urlencode as urlencode_filter
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.revenue_data import revenue_data_through
from revopsweb.csv_export import csv_response
from revopsweb.dates import company_today, quarter_end
from revopsweb.formats import day, money
from revopsweb.forms import EMPTY_FILTER, EMPTY_NONE, Form
from revopsweb.import_views import Upload, handle_upload
from revopsweb.imports import ImportResult, UploadForm
from revopsweb.links import path_for_pk
from revopsweb.parsing import page_number

from .books import (
    BookAccount,
    Queue,
    Removal,
    account_suggested_trait,
    allocation_queue_page,
    assign_account,
    assignment_candidates,
    book_page_rows,
    book_rows,
    book_totals,
    has_book_role,
    opens_on_the_book_picker,
    plan_books,
    set_new_owner_trait,
)
from .extensions import has_mark
from .http import StaffRequest
from .imports import import_accounts, import_snapshots
from .models import ASSIGNABLE_TRAITS, Account, Health, NewOwnerTrait, Region, User
from .permissions import (
    book_picker_owners,
    can_import_accounts,
    can_see_allocation,
    can_set_new_owner_trait,
    is_owner_lead_or_manager,
    openable_account_ids,
    viewable_book_owners,
)
from .segments import (
    SEGMENT_FILTERS,
    Segment,
    mrr_history,
    paid_core_products,
    segments_of,
    with_arr,
    with_revenue,
)
from .templatetags.books import sparkline

SORTS: dict[str, Any] = {
    "name": F("name"),
    "arr": F("arr"),
    "mom": F("mom_change"),
    "health": Case(
        When(health=Health.GOOD, then=Value(0)),
        When(health=Health.FAIR, then=Value(1)),
        When(health=Health.POOR, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    ),
    "renewal": F("renewal_date"),
    "contact": F("last_contact_at"),
    "plan": F("has_current_plan"),
}


class BookFilterForm(Form):
    q = forms.CharField(required=False, label="Search")
    segment = forms.ChoiceField(
        required=False, choices=[("", EMPTY_FILTER), *Segment.LABELS.items()]
    )
    health = forms.ChoiceField(required=False, choices=[("", EMPTY_FILTER), *Health.choices])
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])
    owner = forms.IntegerField(required=False)


def _book_owner(request: StaffRequest, owner_id: int | None) -> User:
    user = request.user
    if owner_id is None or owner_id == user.pk:
        return user
    owner = viewable_book_owners(user).filter(pk=owner_id).first()
    if owner is None:
        raise Http404("No such book.")
    return owner


def _book_request(request: StaffRequest) -> tuple[User, dict[str, Any], dict[str, Any]]:
    """The book asked for, the filter form's valid data, and the page's context."""
    form = BookFilterForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    owner = _book_owner(request, data.get("owner"))
    # Read once: every figure on the page is of the same month.
    through = revenue_data_through(today=company_today())
    sort = data.get("sort") or "arr"
    direction = data.get("dir") or ("asc" if sort == "name" else "desc")
    params = {k: v for k, v in data.items() if v not in (None, "")}
    return (
        owner,
        data,
        {"form": form, "sort": sort, "dir": direction, "params": params, "through": through},
    )


def _filtered(
    rows: QuerySet[BookAccount], data: dict[str, Any], ctx: dict[str, Any]
) -> QuerySet[BookAccount]:
    """``rows`` filtered by the search, segment and health asked for, in the page's order."""
    if data.get("q"):
        rows = rows.filter(Q(name__icontains=data["q"]) | Q(domain__icontains=data["q"]))
    if data.get("segment"):
        rows = rows.filter(SEGMENT_FILTERS[data["segment"]])
    if data.get("health"):
        rows = rows.filter(health=data["health"])
    expression = SORTS[ctx["sort"]]
    ordered = expression.desc(nulls_last=True) if ctx["dir"] == "desc" else expression.asc()
    return rows.order_by(ordered, "name", "pk")


def _book_rows(request: StaffRequest) -> tuple[User, QuerySet[BookAccount], dict[str, Any]]:
    owner, data, ctx = _book_request(request)
    month = ctx["through"].figures_month
    rows = _filtered(book_rows(owner, today=company_today(), month=month), data, ctx)
    return owner, rows, ctx


# The columns My book's rows read (``_book_row``; the owner and their team lead for
# who may flag), beside the book's figures: reading every column of each account and
# of its owner into model instances was about a tenth of the page's Python time
# (cProfile on a clone of the 100,000-account seed; issue 20). Any other field is
# deferred: reading one would cost a query per row.
_ROW_FIELDS = (
    "name",
    "health",
    "is_lead",
    "last_contact_at",
    "renewal_date",
    "owner",
    "owner__team_lead",
)


@require_GET
def my_book(request: StaffRequest) -> HttpResponse:
    """The signed-in person's book (or a team member's, for leads and managers)."""
    owner, data, ctx = _book_request(request)
    today = company_today()
    month = ctx["through"].figures_month
    totals = book_totals(owner, today=today, month=month)
    owners = book_picker_owners(request.user, shown=owner)
    pick_a_book = opens_on_the_book_picker(
        totals=totals, owner_chosen=data.get("owner") is not None, books=len(owners)
    )
    if pick_a_book and not has_book_role(request.user):
        # The page shows no book, and the viewer holds none (their roles are read
        # with them at sign-in): they are not offered their own.
        owners = [p for p in owners if p.pk != request.user.pk]
    ctx.update(
        owner=owner,
        totals=totals,
        owners=owners,
        month=month,
        filter_selects=_filter_selects(ctx["form"]),
        pick_a_book=pick_a_book,
    )
    if ctx["pick_a_book"]:
        # Nothing of an empty book to read: the page is the picker and a sentence.
        if request.htmx:
            return render(request, "accounts/my_book.html#book-table", ctx)
        return render(request, "accounts/my_book.html", ctx)
    if data.get("q"):
        # The search goes into a LIKE pattern: built and compiled for the request.
        rows = _filtered(book_rows(owner, today=today, month=month), data, ctx)
        # The owner rides along (a join) for the "Flag churn risk" predicate.
        accounts = list(rows.select_related("owner").only(*_ROW_FIELDS))
    else:
        accounts = book_page_rows(
            owner,
            today=today,
            month=month,
            shape=(data.get("segment"), data.get("health"), ctx["sort"], ctx["dir"]),
            refine=lambda rows: _filtered(rows, data, ctx).only(*_ROW_FIELDS),
        )
    ids = [a.pk for a in accounts]
    # One reverse per link kind, not one per row (issue 20: about a tenth of the
    # page's Python time at 60 rows), and the "next" parameter encoded once.
    account_path, flag_path = path_for_pk("accounts:account"), path_for_pk("churn:flag")
    back = "?next=" + urlencode_filter(request.get_full_path())
    sparklines = mrr_history(ids, today=today, month=month)
    paid = paid_core_products(ids, today=today, month=month)
    # The marks are columns of the book's statement (books.BOOK_MARKS).
    churn_risk = {a.pk for a in accounts if has_mark(a, "churn_risk")}
    churn_suggested = {a.pk for a in accounts if has_mark(a, "churn_suggested")}
    for account in accounts:
        account.row_html = _book_row(  # type: ignore[attr-defined]
            account,
            page_url=account_path(account.pk),
            flag_url=flag_path(account.pk) + back,
            owner_pk=owner.pk,
            mrr=sparklines.get(account.pk),
            paid=paid.get(account.pk, ()),
            churn_risk=churn_risk,
            churn_suggested=churn_suggested,
            flaggable=is_owner_lead_or_manager(request.user, account),
        )
    ctx.update(
        accounts=accounts,
        # The totals and their targets are the whole book's; with filters on, the
        # page says how many of its rows the table shows (the walk took one for the other).
        filtered=bool(data.get("q") or data.get("segment") or data.get("health")),
        churn_risk=churn_risk,
        churn_suggested=churn_suggested,
        current_quarter_end=quarter_end(today),
        header_cells=_header_cells(ctx),
    )
    if request.htmx:
        return render(request, "accounts/my_book.html#book-table", ctx)
    return render(request, "accounts/my_book.html", ctx)


_TOP_40_BADGE = '<span class="badge">Top 40</span>'
_LEAD_BADGE = '<span class="badge">Lead</span>'
_OVERLAY_BADGE = '<span class="badge">TAM overlay</span>'
_MISSING_PLAN = '<span class="badge poor">Missing</span>'
_GRACE_BADGE = (
    '<span class="badge"\n              title="New account with no previous owner: a churn in'
    ' the first 3 months does not count against quota">Grace period</span>'
)


def _book_row(
    a: BookAccount,
    *,
    page_url: str,
    flag_url: str,
    owner_pk: int,
    mrr: Sequence[Decimal] | None,
    paid: Sequence[str],
    churn_risk: Collection[int],
    churn_suggested: Collection[int],
    flaggable: bool,
) -> SafeString:
    """One row of My book's table (with the whitespace around it in the page): name
    and badges, ARR, the 12 months' sparkline (``mrr``), MoM, ``paid`` core products,
    health, the churn-risk cell (linking to ``flag_url``), this quarter's plan, last
    contact and renewal; the name links to ``page_url``.

    Written here rather than in the template: the row's thirty-odd template lookups
    and filters were about half of the page's Python time (cProfile on a clone of the
    100,000-account seed; issue 20). Text is escaped as the template's autoescape did
    (``django.utils.html.escape`` is ``html.escape``); money and days go through the
    same ``revopsweb.formats`` functions as the ``money`` and ``day`` filters."""
    name = html_escape(a.name)
    flag_url = html_escape(flag_url)
    if a.pk in churn_risk:
        churn = '<span class="badge risk">Churn risk</span>'
    elif a.pk in churn_suggested:
        churn = (
            f'<a class="badge fair"\n            href="{flag_url}"\n                title='
            '"Early-warning signals: review and flag">Suggested ·\n                flag</a>'
        )
    elif flaggable:
        churn = (
            f'<a href="{flag_url}" class="small"\n                        data-testid='
            f'"flag-churn-risk">Flag churn risk<span class="visually-hidden"> for {name}'
            "</span></a>"
        )
    else:
        churn = ""
    health = (
        f'<span class="badge {html_escape(a.health)}">{html_escape(a.get_health_display())}</span>'
        if a.health
        else ""
    )
    products = "".join(f'<span class="badge">{html_escape(p)}</span>' for p in paid)
    return SafeString(
        '\n      <tr data-testid="book-row">\n'
        f'        <td><a href="{html_escape(page_url)}">{name}</a>\n'
        f"          {_TOP_40_BADGE if a.is_top_40 else ''}\n"
        f"          {_LEAD_BADGE if a.is_lead else ''}\n"
        f"          {_GRACE_BADGE if a.in_grace_period else ''}\n"
        f"          {_OVERLAY_BADGE if a.owner_id != owner_pk else ''}\n"
        "        </td>\n"
        f'        <td class="num" data-testid="arr">{html_escape(money(a.arr))}</td>\n'
        f"        <td>{sparkline(mrr)}</td>\n"
        f'        <td class="num">{html_escape(money(a.mom_change))}</td>\n'
        f"        <td>{products}</td>\n"
        f"        <td>{health}</td>\n"
        f"        <td>{churn}</td>\n"
        f"        <td>{'Current' if a.has_current_plan else _MISSING_PLAN}</td>\n"
        f"        <td>{html_escape(day(a.last_contact_at))}</td>\n"
        f"        <td>{html_escape(day(a.renewal_date))}</td>\n"
        "      </tr>\n    "
    )


# The table's columns in order: (sort key or None, label, right-aligned).
COLUMNS: tuple[tuple[str | None, str, bool], ...] = (
    ("name", "Account", False),
    ("arr", "ARR", True),
    (None, "MRR, 12 months", False),
    ("mom", "MoM", True),
    (None, "Paid core products", False),
    ("health", "Health", False),
    (None, "Churn risk", False),
    ("plan", "Plan this quarter", False),
    ("contact", "Last contact", False),
    ("renewal", "Renewal", False),
)


def _sort_link(ctx: dict[str, Any], key: str) -> str:
    """A header's link: a second click on the current sort flips its direction."""
    direction = "asc" if ctx["sort"] == key and ctx["dir"] == "desc" else "desc"
    if ctx["sort"] != key and key == "name":
        direction = "asc"
    return "?" + urlencode({**ctx["params"], "sort": key, "dir": direction})


def _header_cells(ctx: dict[str, Any]) -> SafeString:
    """The table's header cells (with the whitespace between them in the page): each
    sortable column links its sort, the current one marked with ``aria-sort`` and an
    arrow. Written here rather than by a template loop of tags and lookups per
    column (with the filters below, about a tenth of the page's rendering; issue 20)."""
    word, arrow = ("ascending", "▲") if ctx["dir"] == "asc" else ("descending", "▼")
    cells = []
    for key, label, num in COLUMNS:
        if key is None:
            cells.append(f"\n      <th>{html_escape(label)}</th>\n      ")
            continue
        link = html_escape(_sort_link(ctx, key))
        current = key == ctx["sort"]
        cells.append(
            "\n      <th"
            + (' class="num"' if num else "")
            + (f' aria-sort="{word}"' if current else "")
            + f'><a href="{link}"\n        hx-get="{link}">{html_escape(label)}'
            + (f' <span aria-hidden="true">{arrow}</span>' if current else "")
            + "</a></th>\n      \n      "
        )
    return SafeString("".join(cells))


def _filter_selects(form: BookFilterForm) -> SafeString:
    """The segment and health filters (with the whitespace between them in the page),
    the value asked for selected as Django's Select widget would (the empty choice when
    none is asked for) and an invalid one marked as Django's widget marks it. Written
    here rather than by the form's widget templates (a tenth of the page's rendering)."""
    return _filter_selects_html(
        tuple(
            (name, str(form[name].label), str(form[name].value() or ""), bool(form[name].errors))
            for name in ("segment", "health")
        )
    )


@functools.lru_cache(maxsize=256)
def _filter_selects_html(fields: tuple[tuple[str, str, str, bool], ...]) -> SafeString:
    # By (field name, label, value asked for, invalid): the same few on nearly every request.
    html = []
    for name, label, current, invalid in fields:
        choices = BookFilterForm.base_fields[name].choices  # type: ignore[attr-defined]
        options = "".join(
            f'<option value="{html_escape(str(v))}"'
            + ("\n        selected" if str(v) == current else "")
            + f">{html_escape(str(text))}</option>"
            for v, text in choices
        )
        html.append(
            f'\n    <label>{html_escape(label)} <select name="{name}"'
            + (
                f' aria-invalid="true"\n        aria-describedby="id_{name}_error"'
                if invalid
                else ""
            )
            + f' id="id_{name}">\n      {options}\n    </select></label>\n    '
        )
    return SafeString("".join(html))


@require_GET
def book_export(request: StaffRequest) -> HttpResponse:
    """The filtered, sorted book as CSV (same rows as the page)."""
    owner, rows, ctx = _book_rows(request)
    today = company_today()
    accounts = list(rows)
    ids = [a.pk for a in accounts]
    paid = paid_core_products(ids, today=today, month=ctx["through"].figures_month)
    header = [
        "organization_id",
        "name",
        "owner_role",
        "mrr",
        "arr",
        "mom_change",
        "paid_core_products",
        "health",
        "churn_risk",
        "current_quarter_plan",
        "last_contact_at",
        "renewal_date",
        "segments",
    ]
    table = [
        [
            a.organization_id,
            a.name,
            a.owner_role,
            a.mrr,
            a.arr,
            a.mom_change,
            "; ".join(paid.get(a.pk, [])),
            a.health,
            has_mark(a, "churn_risk"),
            a.has_current_plan,
            a.last_contact_at,
            a.renewal_date,
            "; ".join(Segment.LABELS[s] for s in segments_of(a)),
        ]
        for a in accounts
    ]
    return csv_response(filename=f"book-{owner.pk}-{today}.csv", header=header, rows=table)


# --- planning and allocation -------------------------------------------------


@require_GET
def planning(request: StaffRequest) -> HttpResponse:
    """Quarterly book planning for the books the user may see."""
    today = company_today()
    through = revenue_data_through(today=today)
    books = plan_books(viewable_book_owners(request.user), today=today, month=through.figures_month)
    return render(
        request,
        "accounts/planning.html",
        {
            "through": through,
            "books": books,
            "labels": Removal.LABELS,
            "quarter_end": quarter_end(today),
        },
    )


def _require_lead(request: StaffRequest) -> User:
    user = request.user
    if not can_see_allocation(user):
        raise PermissionDenied("Allocation is for team leads and managers.")
    return user


class TraitForm(Form):
    trait = forms.ChoiceField(choices=[("", EMPTY_NONE), *NewOwnerTrait.choices], required=False)


class AssignForm(Form):
    owner = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True))
    reason = forms.CharField(max_length=500)


# Rows of the allocation queue per page (the whole queue was one 63,000-pixel page).
ALLOCATION_PAGE_SIZE = 25


def _suggestion_text(account: Account, suggestion: str) -> str:
    """The suggested trait in words, with why: "US TAM: US region, core products
    not all paid"; what to do when the region is unknown."""
    if not suggestion:
        return "No suggestion: the account has no region or territory"
    region = ASSIGNABLE_TRAITS[NewOwnerTrait(suggestion)][0]
    paid = (
        "every core product paid"
        if getattr(account, "all_core_paid", False)
        else "core products not all paid"
    )
    return f"{NewOwnerTrait(suggestion).label}: {Region(region).label} region, {paid}"


def _assignable_people(user: User) -> QuerySet[User]:
    people = User.objects.filter(is_active=True, groups__name__in=["TAM", "CSM"]).distinct()
    if user.is_manager:
        return people
    return people.filter(Q(team_lead=user) | Q(pk=user.pk))


@require_GET
def allocation(request: StaffRequest) -> HttpResponse:
    """The allocation queue, one queue (reason) at a time if asked, a page of rows at
    a time; the same queries whatever the queue's length."""
    user = _require_lead(request)
    today = company_today()
    through = revenue_data_through(today=today)
    queue = request.GET.get("queue", "")
    if queue not in Queue.LABELS:
        queue = ""
    number = page_number(request.GET.get("page"))
    page = allocation_queue_page(
        today=today,
        month=through.figures_month,
        queue=queue,
        number=number,
        per_page=ALLOCATION_PAGE_SIZE,
    )
    # A team lead's queue holds other teams' accounts: each links only where it opens,
    # and offers a handover only where handover_propose would not refuse (owner loaded).
    openable = openable_account_ids(user, (row[0].pk for row in page.rows))
    return render(
        request,
        "accounts/allocation.html",
        {
            "through": through,
            "rows": [
                (*row, _suggestion_text(row[0], row[2]), is_owner_lead_or_manager(user, row[0]))
                for row in page.rows
            ],
            "openable": openable,
            "page": page,
            "queue": queue,
            "queues": [
                (key, label, page.counts.get(key, 0)) for key, label in Queue.LABELS.items()
            ],
            "total": page.total,
            "labels": Queue.LABELS,
            "traits": NewOwnerTrait.choices,
            "is_manager": can_set_new_owner_trait(user),
        },
    )


@require_POST
def allocation_set_trait(request: StaffRequest, pk: int) -> HttpResponse:
    user = _require_lead(request)
    account = get_object_or_404(Account, pk=pk)
    form = TraitForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Unknown trait.", status=422)
    set_new_owner_trait(account=account, trait=form.cleaned_data["trait"], by=user)
    messages.success(request, f"{account.name}: new owner trait saved.")
    return redirect(reverse("accounts:allocation") + f"#account-{account.pk}")


def _assign_form(request: StaffRequest, user: User, pk: int) -> HttpResponse:
    """The form assigning one account: the row's ``assign-form`` partial of the
    allocation page for htmx, a page holding the same partial otherwise."""
    through = revenue_data_through(today=company_today())
    account = get_object_or_404(
        with_arr(Account.objects.select_related("owner", "territory"), month=through.figures_month),
        pk=pk,
    )
    suggestion = account_suggested_trait(account)
    trait = account.new_owner_trait if account.new_owner_trait in ASSIGNABLE_TRAITS else ""
    context = {
        "through": through,
        "account": account,
        # The people the trait asks for come first; without one, those the suggestion would.
        "first_for": NewOwnerTrait(trait or suggestion).label if trait or suggestion else "",
        "first_because": "new owner trait" if trait else "suggested trait",
        "groups": assignment_candidates(_assignable_people(user), trait=trait or suggestion),
        # As assign_account decides: a Top 40 account changes owner only by a manager.
        "may_assign": user.is_manager or not account.is_top_40,  # type: ignore[attr-defined]
    }
    template = "accounts/allocation.html#assign-form" if request.htmx else "accounts/assign.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
def allocation_assign(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: the form to assign the account (loaded into its allocation row on demand,
    so the page does not carry a list of every person per row). POST: assign it;
    redirected to the allocation page."""
    user = _require_lead(request)
    if request.method == "GET":
        return _assign_form(request, user, pk)
    today = company_today()
    account = get_object_or_404(
        with_revenue(Account.objects.select_related("owner"), today=today), pk=pk
    )
    form = AssignForm(request.POST)
    form.fields["owner"].queryset = _assignable_people(user)  # type: ignore[attr-defined]
    if not form.is_valid():
        messages.error(request, f"{account.name}: choose a person and give a reason.")
        return redirect("accounts:allocation")
    change = assign_account(
        account=account,
        new_owner=form.cleaned_data["owner"],
        by=user,
        reason=form.cleaned_data["reason"],
        today=today,
        is_top_40=account.is_top_40,  # type: ignore[attr-defined]
    )
    messages.success(
        request,
        f"{account.name} assigned to {change.new_owner}, effective {change.effective_on:%d %b %Y}.",
    )
    return redirect("accounts:allocation")


# --- import --------------------------------------------------------------------


class ImportForm(UploadForm):
    kind = forms.ChoiceField(choices=[("accounts", "Accounts"), ("snapshots", "Weekly snapshots")])
    field_order = ("kind", "file", "dry_run")


@require_http_methods(["GET", "POST"])
def import_page(request: StaffRequest) -> HttpResponse:
    """Upload an accounts or snapshots CSV; RevOps and managers only."""
    user = request.user
    if not can_import_accounts(user):
        raise PermissionDenied("Imports are for RevOps and managers.")
    form = ImportForm(request.POST or None, request.FILES or None)
    upload = Upload()
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["kind"]

        def run(text: str, dry_run: bool) -> ImportResult:
            if kind == "accounts":
                return import_accounts(text, dry_run=dry_run, changed_by=user)
            return import_snapshots(text, dry_run=dry_run)

        upload = handle_upload(
            request, form, kind=kind, back_url=reverse("accounts:import"), run=run
        )
        if upload.response is not None:
            return upload.response
        if upload.result is not None and upload.result.applied:
            messages.success(request, f"Imported {len(upload.result.outcomes)} row(s).")
    result = upload.result
    status = 422 if (result and result.errors) or form.errors else 200
    return render(
        request,
        "accounts/import.html",
        {"form": form, "result": result, "job": upload.job},
        status=status,
    )
