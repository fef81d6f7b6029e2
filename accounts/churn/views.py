"""Churn review pages: the weekly review, flagging, status, escalation, outcome, retro, CSV, API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, Prefetch
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.api import token_required
from accounts.forms import SnapshotRowForm
from accounts.http import StaffRequest
from accounts.models import Account, AccountSnapshot, IntegrationToken
from accounts.permissions import is_owner_lead_or_manager, openable_account_ids
from revopsweb.csv_export import Cell, csv_response
from revopsweb.dates import company_today, week_start
from revopsweb.jsonapi import BodyError, form_errors, read_json_object
from revopsweb.parsing import page_number

from . import flags, review, webhook
from .forms import CloseForm, EscalationForm, FlagForm, RetroForm, StatusForm
from .models import ChurnRiskFlag, ChurnSignal, FlagStatus

TEMPLATE = "churn/review.html"


def _manageable_flag(request: StaffRequest, flag_id: int) -> ChurnRiskFlag:
    """A flag the user sees (else 404) and may work (else 403)."""
    user = request.user
    flag = get_object_or_404(
        review.visible_flags(user).select_related("account__owner"), pk=flag_id
    )
    if not is_owner_lead_or_manager(user, flag.account):
        raise PermissionDenied("Only the owner, their team lead or a manager can do that.")
    return flag


def _review_url(flag: ChurnRiskFlag | None = None) -> str:
    """The review; for ``flag``, its owner's group open at the page holding its card."""
    url = reverse("churn:review")
    if flag is None:
        return url
    if flag.status != FlagStatus.OPEN:
        return f"{url}#flagged"
    owner = flag.account.owner_id
    query = urlencode(
        {
            "owner": review.NO_OWNER_KEY if owner is None else owner,
            "page": review.flag_group_page(flag=flag, per_page=GROUP_PAGE_SIZE),
        }
    )
    return f"{url}?{query}#flag-{flag.pk}"


# Cards per page of one owner's group, suggestions and retros per page: the page
# stays a few hundred KB whatever the company's size (issue 20).
GROUP_PAGE_SIZE = 25
SUGGESTED_PAGE_SIZE = 50
RETROS_PAGE_SIZE = 25


@dataclass
class ListPage:
    """One page of a list of the review (``number`` from 1), with its total."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.per_page < self.total

    @property
    def first(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0


def _page_number(request: StaffRequest, param: str) -> int:
    return page_number(request.GET.get(param))


def _last_page_at_most(number: int, *, per_page: int, total: int) -> int:
    """``number``, or the last page of ``total`` rows when it is past the end."""
    return min(number, max((total + per_page - 1) // per_page, 1))


def _list_page(queryset: Any, *, number: int, per_page: int) -> ListPage:
    """Page ``number`` of ``queryset`` (a page past the end reads as the last). Two queries."""
    total = queryset.count()
    number = _last_page_at_most(number, per_page=per_page, total=total)
    start = (number - 1) * per_page
    return ListPage(
        items=list(queryset[start : start + per_page]),
        number=number,
        per_page=per_page,
        total=total,
    )


def _suggested_page(request: StaffRequest) -> ListPage:
    # Only accounts the person may flag and open: each row links to both.
    total = review.suggested_count(user=request.user)
    number = _last_page_at_most(
        _page_number(request, "suggested"), per_page=SUGGESTED_PAGE_SIZE, total=total
    )
    start = (number - 1) * SUGGESTED_PAGE_SIZE
    window = review.suggested_window(
        user=request.user, start=start, stop=start + SUGGESTED_PAGE_SIZE
    ).prefetch_related(
        Prefetch(
            "churn_signals",
            queryset=ChurnSignal.objects.filter(cleared_on__isnull=True).order_by("kind"),
            to_attr="open_signals",
        )
    )
    return ListPage(items=list(window), number=number, per_page=SUGGESTED_PAGE_SIZE, total=total)


def _openable(request: StaffRequest, account_ids: list[int]) -> set[int]:
    """The accounts of ``account_ids`` the viewer may open: all for managers (no query),
    else one query, so a team lead's review links only their team's accounts."""
    if request.user.is_manager:
        return set(account_ids)
    return openable_account_ids(request.user, account_ids)


def _mark_openable(request: StaffRequest, rows: list[review.ReviewRow]) -> None:
    openable = _openable(request, [row.flag.account_id for row in rows])
    for row in rows:
        row.account_openable = row.flag.account_id in openable


def _retros_page(request: StaffRequest, now: dt.datetime) -> ListPage:
    retros = (
        review.review_flags(request.user)
        .filter(status=FlagStatus.CHURNED, retro__isnull=True)
        .select_related("account__owner")
        .order_by("closed_at", "pk")
    )
    page = _list_page(retros, number=_page_number(request, "retros"), per_page=RETROS_PAGE_SIZE)
    openable = _openable(request, [flag.account_id for flag in page.items])
    for flag in page.items:
        flag.retro_due_at = review.retro_due_at(flag)
        flag.retro_overdue = flag.retro_due_at < now
        flag.account_openable = flag.account_id in openable
    return page


def _group_page(request: StaffRequest, now: dt.datetime, owner_key: str) -> review.GroupPage:
    page = review.review_group_page(
        user=request.user,
        now=now,
        owner_key=owner_key,
        number=_page_number(request, "page"),
        per_page=GROUP_PAGE_SIZE,
    )
    _give_card_forms(page.rows)
    _mark_openable(request, page.rows)
    return page


@require_GET
def churn_review(request: StaffRequest) -> HttpResponse:
    """The weekly at-risk review: flagged accounts by owner (counted, each owner's cards
    loaded on demand a page at a time), suggestions and retros a page at a time, trend;
    all of it of the viewer's scope (``review.review_scope``: their book, their team or
    the company), named in the heading.

    ``?owner=<id|none>&page=N`` opens one owner's group; ``?suggested=N``,
    ``?retros=N`` page those lists. From htmx, ``part=group|suggested|retros``
    returns just that named partial of the same template.
    """
    user = request.user
    now = timezone.now()
    owner_key = request.GET.get("owner", "")
    if owner_key != review.NO_OWNER_KEY and not owner_key.isdigit():
        owner_key = ""
    part = request.GET.get("part", "") if request.htmx else ""
    if part == "group" and owner_key:
        return render(
            request, f"{TEMPLATE}#owner-flags", {"group_page": _group_page(request, now, owner_key)}
        )
    if part == "suggested":
        return render(request, f"{TEMPLATE}#suggested", {"suggested": _suggested_page(request)})
    if part == "retros":
        return render(request, f"{TEMPLATE}#retros", {"retros": _retros_page(request, now)})
    summaries = review.review_owner_summaries(user=user)
    # One owner on the page (a TAM's own review, or a single owner at risk) opens it.
    if not owner_key and len(summaries) == 1:
        owner_key = summaries[0].key
    open_page = (
        _group_page(request, now, owner_key) if any(s.key == owner_key for s in summaries) else None
    )
    # The header, owners, retros and trend share one scope (review.review_scope).
    trend = review.weekly_trend(today=company_today(now=now), flags=review.review_flags(user))
    chart = {
        "labels": [f"{w.week:%b %d}" for w in trend],
        "at_risk": [w.at_risk for w in trend],
        "arr": [str(w.arr_at_risk) for w in trend],
        "saved": [w.saved for w in trend],
        "churned": [w.churned for w in trend],
    }
    return render(
        request,
        TEMPLATE,
        {
            "owners": summaries,
            "scope": review.SCOPE_LABELS[review.review_scope(user)],
            "open_page": open_page,
            "flag_count": sum(s.count for s in summaries),
            "arr_total": sum((s.arr for s in summaries), start=Decimal(0)),
            "suggested": _suggested_page(request),
            "retros": _retros_page(request, now),
            "trend": trend,
            "chart": chart,
            "this_week": week_start(company_today(now=now)),
        },
    )


@require_GET
def churn_review_csv(request: StaffRequest) -> HttpResponse:
    """The review as CSV, one row per flagged account, in the page's order."""
    groups = review.review_groups(user=request.user, now=timezone.now())
    header = [
        "owner",
        "account",
        "organization_id",
        "arr_at_flag",
        "flagged_on",
        "weeks_at_risk",
        "severity",
        "triggers",
        "status_week",
        "tried",
        "working",
        "help_needed",
        "trend",
        "missing_update_this_week",
        "recovery_call_48h",
        "next_key_date",
        "escalate_or_accept_loss",
        "leadership_escalation",
        "escalations",
    ]
    rows: list[list[Cell]] = []
    for group in groups:
        for row in group.rows:
            flag, latest = row.flag, row.latest_update
            rows.append(
                [
                    str(group.owner or ""),
                    flag.account.name,
                    flag.account.organization_id,
                    flag.arr_at_flag,
                    company_today(now=flag.raised_at),
                    row.weeks_at_risk,
                    flag.severity,
                    flag.triggers,
                    latest.week if latest else None,
                    latest.tried if latest else "",
                    latest.working if latest else "",
                    latest.help_needed if latest else flag.help_needed,
                    latest.trend if latest else "",
                    row.missing_update,
                    row.recovery_call,
                    row.next_key_date,
                    row.escalate_or_accept,
                    row.leadership_marker,
                    "; ".join(e.team for e in row.escalations),
                ]
            )
    return csv_response(filename="churn-review.csv", header=header, rows=rows)


@require_http_methods(["GET", "POST"])
def churn_flag(request: StaffRequest, account_id: int) -> HttpResponse:
    """Flag an account at risk: a form prefilled with its open signals."""
    user = request.user
    account = get_object_or_404(review.review_accounts(user).select_related("owner"), pk=account_id)
    if not is_owner_lead_or_manager(user, account):
        raise PermissionDenied("Only the owner, their team lead or a manager can flag it.")
    form = FlagForm(request.POST or None, initial={"triggers": flags.default_triggers(account)})
    # Flagged from the account page or a book row: back there afterwards.
    back = request.POST.get("next") or request.GET.get("next") or ""
    # Only a path of this site: redirect() would read "2147483648" as a view name (500).
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        back = ""
    if request.method == "POST" and form.is_valid():
        try:
            flag = flags.flag_account(account=account, by=user, **form.cleaned_data)
        except flags.ChurnError as exc:
            messages.error(request, exc.messages[0])
            return redirect(_review_url())
        # Only a configured webhook tells the channel; otherwise the person must.
        told = (
            "#customer-churn is told"
            if webhook.webhook_configured()
            else ("no #customer-churn webhook is set up, so tell the channel yourself")
        )
        messages.success(request, f"{account.name} is flagged at risk; {told}.")
        return redirect(back or _review_url(flag))
    context = {
        "account": account,
        "form": form,
        "webhook": webhook.webhook_configured(),
        "next": back,
    }
    return render(request, "churn/flag.html", context)


def _give_card_forms(rows: list[review.ReviewRow]) -> None:
    """Each card its own unbound forms, with ids of its own (``id_flag<pk>_status_tried``):
    with one form per page every card repeated the same ids and each label
    pointed at the first card's field."""
    for row in rows:
        prefix = f"id_flag{row.flag.pk}"
        row.forms = {  # type: ignore[attr-defined]
            "status": StatusForm(auto_id=f"{prefix}_status_%s"),
            "escalation": EscalationForm(auto_id=f"{prefix}_escalation_%s"),
            "close": CloseForm(auto_id=f"{prefix}_close_%s"),
        }


def _row_or_redirect(request: StaffRequest, flag: ChurnRiskFlag) -> HttpResponse:
    """htmx gets the re-rendered flag card; a plain post is redirected to the review."""
    if not request.htmx:
        return redirect(_review_url(flag))
    groups = review.review_groups(user=request.user, now=timezone.now(), flag_ids=[flag.pk])
    rows = [row for group in groups for row in group.rows]
    if not rows:  # the flag closed: the card goes away
        return HttpResponse("")
    _give_card_forms(rows)
    _mark_openable(request, rows)
    return render(
        request,
        f"{TEMPLATE}#flag-card",
        {
            "row": rows[0],
            "status_form": StatusForm(),
            "escalation_form": EscalationForm(),
            "close_form": CloseForm(),
        },
    )


def _form_errors(request: StaffRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else "Form"
        messages.error(request, f"{label}: {' '.join(errors)}")


def _post_flag_form(
    request: StaffRequest,
    flag_id: int,
    *,
    form_class: type[ModelForm[Any]],
    act: Callable[..., object],
    done: str,
) -> HttpResponse:
    """Validate ``form_class`` on a manageable flag, call ``act(flag=, by=, **cleaned_data)``
    and say ``done`` (formatted with the account's name), or the rule's refusal."""
    flag = _manageable_flag(request, flag_id)
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _row_or_redirect(request, flag)
    try:
        act(flag=flag, by=request.user, **form.cleaned_data)
    except flags.ChurnError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, done.format(account=flag.account.name))
    return _row_or_redirect(request, flag)


@require_POST
def churn_status(request: StaffRequest, flag_id: int) -> HttpResponse:
    """Post this week's 60-second status on a flagged account."""
    return _post_flag_form(
        request,
        flag_id,
        form_class=StatusForm,
        act=flags.post_weekly_status,
        done="Status for {account} saved.",
    )


@require_POST
def churn_escalate(request: StaffRequest, flag_id: int) -> HttpResponse:
    """Record an escalation (engineering, product, leadership); the owner stays the owner."""
    return _post_flag_form(
        request,
        flag_id,
        form_class=EscalationForm,
        act=flags.escalate_flag,
        done="Escalation on {account} recorded.",
    )


@require_POST
def churn_close(request: StaffRequest, flag_id: int) -> HttpResponse:
    """Close a flag: resolved, churned (a retro is then due) or removed."""
    flag = _manageable_flag(request, flag_id)
    form = CloseForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return _row_or_redirect(request, flag)
    try:
        flags.close_flag(
            flag=flag,
            by=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except flags.ChurnError as exc:
        messages.error(request, exc.messages[0])
        return _row_or_redirect(request, flag)
    if flag.status == FlagStatus.CHURNED:
        messages.warning(request, f"{flag.account.name} churned: write the retro within a week.")
        if request.htmx:
            response = HttpResponse("")
            response["HX-Redirect"] = reverse("churn:retro", args=[flag.pk])
            return response
        return redirect("churn:retro", flag_id=flag.pk)
    messages.success(request, f"{flag.account.name}: {flag.get_status_display()}.")
    return _row_or_redirect(request, flag)


@require_http_methods(["GET", "POST"])
def churn_retro(request: StaffRequest, flag_id: int) -> HttpResponse:
    """Write the retro of a churned account."""
    flag = _manageable_flag(request, flag_id)
    if flag.status != FlagStatus.CHURNED:
        messages.error(request, "Only a churned account gets a retro.")
        return redirect(_review_url())
    existing = getattr(flag, "retro", None)
    form = RetroForm(request.POST or None, instance=existing)
    if request.method == "POST" and form.is_valid():
        flags.write_retro(flag=flag, by=request.user, **form.cleaned_data)
        messages.success(request, f"Retro for {flag.account.name} saved.")
        return redirect(_review_url())
    return render(
        request,
        "churn/retro.html",
        {"flag": flag, "form": form, "due_at": review.retro_due_at(flag)},
    )


@token_required(IntegrationToken.Scope.SNAPSHOTS)
def snapshot_api(request: HttpRequest, organization_id: str) -> HttpResponse:
    """Upsert one account's usage and health for one week.

    Body: {"week": "YYYY-MM-DD" (a Monday), "health": "good|fair|poor|",
    "active_users_30d", "events", "support_tickets", "billing_page_visits"}.
    201 when the week is new, 200 when it replaced it, 400 with every field
    error, 404 for an unknown organization. The newest week also updates the
    account's current health and active users.
    """
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    context = SnapshotRowForm.prefetch([{"organization_id": organization_id}])
    found = context["accounts"].get(organization_id)
    if found is None:
        return JsonResponse(
            {"error": f"No account with organization id {organization_id!r}."}, status=404
        )
    account = Account.objects.get(pk=found["pk"])
    try:
        payload = read_json_object(request)
    except BodyError as exc:
        return exc.response
    form = SnapshotRowForm({**payload, "organization_id": organization_id}, context=context)
    valid = form.is_valid()
    errors = form_errors(form, unknown=payload)
    if not valid or errors:
        return JsonResponse({"errors": errors}, status=400)
    data = form.cleaned_data
    with transaction.atomic():
        snapshot, created = AccountSnapshot.objects.update_or_create(
            account=account,
            week=data["week"],
            defaults={k: data[k] for k in AccountSnapshot.MEASURES},
        )
        # Only the newest week speaks for the account now (one UPDATE, no read first).
        newer = AccountSnapshot.objects.filter(account=account, week__gt=snapshot.week)
        Account.objects.filter(~Exists(newer), pk=account.pk).update(
            health=snapshot.health, active_users_30d=snapshot.active_users_30d
        )
    return JsonResponse(
        {"account": organization_id, "week": snapshot.week.isoformat(), "created": created},
        status=201 if created else 200,
    )
