from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.http import StaffRequest
from accounts.models import User
from accounts.permissions import openable_account_ids
from revopsweb.csv_export import Cell, csv_response
from revopsweb.dates import (
    add_months,
    company_today,
    quarter_label,
    quarter_start,
)
from revopsweb.import_views import Upload, handle_upload
from revopsweb.imports import UploadForm
from revopsweb.parsing import integer_bounds, parse_integer, parse_month, parse_quarter

from .cache import (
    Freshness,
    fresh_summary,
    page_components,
    page_movers,
    page_products,
)
from .exclusions import may_decide
from .imports import HEADER, MonthlyRevenueImport, import_mrr_csv
from .lifecycle import MonthComponents
from .models import OptimisationExclusion, Product
from .permissions import (
    IMPORT_REFUSAL,
    QUOTA_REFUSAL,
    REVENUE_REFUSAL,
    can_import_revenue,
    can_see_every_quota,
    can_see_quota,
    can_see_revenue,
)
from .quota import (
    TamTotals,
    active_tams,
    book_for_quota,
    counted_through,
    tam_quota_totals,
    tam_quotas,
    team_quota,
)
from .reports import number
from .retention import Retention, retention_from
from .revenue_data import RevenueDataThrough, revenue_data_through

COMPONENTS = ("new", "reactivated", "expansion", "contraction", "churned")
PAST_QUARTERS = 4


def _basis(request: StaffRequest) -> bool:
    """Adjusted revenue unless ``?basis=unadjusted`` (lifecycle and retention use adjusted)."""
    return request.GET.get("basis", "adjusted") != "unadjusted"


def _refused(request: StaffRequest, name: str, parse: Any) -> str:
    """The error of query parameter ``name`` (empty when absent or valid), also
    shown on the page, which then answers 400 with the default month or quarter."""
    value = request.GET.get(name)
    if value is None:
        return ""
    try:
        parse(value)
    except ValueError as exc:
        messages.error(request, f"{name}: {exc} Showing the latest instead.")
        return str(exc)
    return ""


def _through(request: StaffRequest, *, data: RevenueDataThrough) -> dt.date:
    """The month asked for, never after the revenue data (a month not imported
    yet would read as −100% churn); by default the latest imported month, as
    My book shows."""
    try:
        asked = parse_month(request.GET.get("month", ""))
    except ValueError:
        return data.figures_month
    return min(asked, data.figures_month)


def _revenue_context(
    *, through: dt.date, adjusted: bool, data: RevenueDataThrough
) -> dict[str, Any]:
    freshness = fresh_summary()
    totals = page_components(through=through, adjusted=adjusted)
    retention = [retention_from(c) for c in totals]
    products = {p.pk: p for p in Product.objects.all()}
    per_product: list[tuple[Product, MonthComponents]] = [
        (products[row.product_id], row)
        for row in page_products(through=through, adjusted=adjusted)
        if row.product_id in products
    ]
    product_rows = sorted(per_product, key=lambda item: -item[1].total)
    gainers, losers = page_movers(through=through, adjusted=adjusted)
    chart = {
        "labels": [f"{c.month:%Y-%m}" for c in totals],
        "components": {name: [number(getattr(c, name)) for c in totals] for name in COMPONENTS},
        "ndr": {str(b): [number(r.ndr[b]) for r in retention] for b in (3, 6, 12)},
        "gdr": {str(b): [number(r.gdr[b]) for r in retention] for b in (3, 6, 12)},
    }
    return {
        "rows": list(zip(totals, retention, strict=True)),
        "current": totals[-1],
        "current_retention": retention[-1],
        "product_rows": product_rows,
        "gainers": gainers,
        "losers": losers,
        "chart": chart,
        "adjusted": adjusted,
        "through": through,
        "month_param": f"{through:%Y-%m}",
        "previous_month": f"{add_months(through, -1):%Y-%m}",
        # Navigation stops at the data: no link to a month not imported yet.
        "next_month": f"{add_months(through, 1):%Y-%m}" if through < data.figures_month else "",
        "data_through": data,
        "updating": freshness.message,
        # Never built: no figure to show, not zeros (a month not in yet is not $0).
        "figures_ready": freshness is not Freshness.NOT_BUILT,
    }


@require_GET
def revenue(request: StaffRequest) -> HttpResponse:
    """Waterfall, NDR/GDR, per-product breakdown and movers; htmx swaps the body."""
    if not can_see_revenue(request.user):
        raise PermissionDenied(REVENUE_REFUSAL)
    data = revenue_data_through(today=company_today())
    refused = _refused(request, "month", parse_month)
    context = _revenue_context(
        through=_through(request, data=data), adjusted=_basis(request), data=data
    )
    # The movers are everyone's accounts: each links only where it opens.
    movers = [*context["gainers"], *context["losers"]]
    context["openable"] = openable_account_ids(request.user, (m.customer_id for m in movers))
    template = "billing/revenue.html#revenue-body" if request.htmx else "billing/revenue.html"
    return render(request, template, context, status=400 if refused else 200)


@require_GET
def revenue_csv(request: StaffRequest) -> HttpResponse:
    """The monthly components and NDR/GDR of the page as CSV."""
    if not can_see_revenue(request.user):
        raise PermissionDenied(REVENUE_REFUSAL)
    data = revenue_data_through(today=company_today())
    through, adjusted = _through(request, data=data), _basis(request)
    freshness = fresh_summary()
    if freshness is not Freshness.CURRENT:
        # A file has no place to say its figures are being updated: none until they are.
        response = HttpResponse(freshness.message, status=503, content_type="text/plain")
        response["Retry-After"] = "60"
        return response
    totals = page_components(through=through, adjusted=adjusted)
    basis = "adjusted" if adjusted else "unadjusted"
    header = [
        "month", "total", "baseline", "new", "reactivated", "retained", "expansion",
        "contraction", "churned", "new_rate", "expansion_rate", "contraction_rate",
        "churn_rate", "ndr_3", "ndr_6", "ndr_12", "gdr_3", "gdr_6", "gdr_12",
    ]  # fmt: skip
    rows: list[list[Cell]] = []
    for c in totals:
        r: Retention = retention_from(c)
        rates = c.rates
        rows.append(
            [
                f"{c.month:%Y-%m}", c.total, c.baseline, c.new, c.reactivated, c.retained,
                c.expansion, c.contraction, c.churned, rates["new"], rates["expansion"],
                rates["contraction"], rates["churn"], r.ndr[3], r.ndr[6], r.ndr[12],
                r.gdr[3], r.gdr[6], r.gdr[12],
            ]
        )  # fmt: skip
    return csv_response(filename=f"revenue-{basis}-{through:%Y-%m}.csv", header=header, rows=rows)


def _quarter(request: StaffRequest, *, latest: dt.date) -> dt.date:
    """The quarter asked for, never after ``latest``, the quarter of the latest
    imported month (a quarter with no month in would read as churned); by default
    ``latest``."""
    try:
        asked = parse_quarter(request.GET.get("quarter", ""))
    except ValueError:
        return latest
    return min(asked, latest)


QUOTA_TEMPLATE = "billing/quota.html"


@require_GET
def quota(request: StaffRequest) -> HttpResponse:
    """Per TAM start/end ARR and attainment, each TAM's accounts a collapsed group with its
    count; TAMs see only their own row and accounts.

    The groups' rows are computed only for the group asked for: ``?tam=<id>`` opens that
    TAM's accounts on the page (the plain link of each group), and from htmx
    ``part=accounts`` returns just that group's partial of the same template.
    """
    user = request.user
    sees_all = can_see_every_quota(user)
    if not can_see_quota(user):
        raise PermissionDenied(QUOTA_REFUSAL)
    data = revenue_data_through(today=company_today())
    refused = _refused(request, "quarter", parse_quarter)
    # Quarters offered stop at the data, as the revenue page's months do.
    latest = quarter_start(data.figures_month)
    quarter = _quarter(request, latest=latest)
    through = counted_through(quarter=quarter, data=data)
    asked = _asked_tam(request, sees_all=sees_all)
    group = tam_quotas(quarter=quarter, tams=[asked], through=through)[0] if asked else None
    if group and request.htmx and request.GET.get("part") == "accounts":
        return render(
            request,
            f"{QUOTA_TEMPLATE}#tam-accounts",
            {"group": group, "quarter": quarter_label(quarter)},
        )
    # Leads and managers see every active TAM (the default), others their own row; the
    # totals come without the accounts' rows (one query whatever the books' size).
    rows = tam_quota_totals(quarter=quarter, tams=None if sees_all else [user], through=through)
    teams = _teams(rows, quarter) if sees_all else []
    exclusions = _exclusions(user, quarter=quarter, tams=[r.user for r in rows])
    quarters = [quarter_label(add_months(latest, -3 * i)) for i in range(PAST_QUARTERS + 1)]
    chart = {
        "labels": [r.user.name for r in rows],
        "attainment": [number(r.attainment) for r in rows],
        "quota": [number(r.quota) for r in rows],
    }
    return render(
        request,
        QUOTA_TEMPLATE,
        {
            "rows": rows,
            "group": group,
            "teams": teams,
            "quarter": quarter_label(quarter),
            "to_date": through < add_months(quarter, 2),
            "through": through,
            "data_through": data,
            "quarters": quarters,
            "sees_all": sees_all,
            "chart": chart,
            "exclusions": exclusions,
        },
        status=400 if refused else 200,
    )


def _asked_tam(request: StaffRequest, *, sees_all: bool) -> User | None:
    """The TAM ``?tam=<id>`` asks to open: any active TAM for those who see every quota;
    for a TAM only themselves (another TAM's id is refused, 403). None when not asked;
    404 for an id that is no active TAM."""
    raw = request.GET.get("tam")
    if raw is None:
        return None
    try:
        pk = parse_integer(raw, min_value=1, max_value=integer_bounds(User, "id")[1])
    except ValueError:
        raise Http404("No such TAM.") from None
    if not sees_all:
        if pk != request.user.pk:
            raise PermissionDenied(QUOTA_REFUSAL)
        return request.user
    return get_object_or_404(active_tams(), pk=pk)


def _exclusions(user: Any, *, quarter: dt.date, tams: list[User]) -> list[dict[str, Any]]:
    """The quarter's optimisation exclusions of the accounts in ``tams``' quota books,
    with who may decide. The quarter's few requests are read first and only their
    accounts are looked up in the books (no query when there is none): the books of
    every TAM are thousands of accounts."""
    found = list(
        OptimisationExclusion.objects.filter(quarter=quarter)
        .select_related("account", "requested_by", "lead_decided_by", "manager_decided_by")
        .order_by("-requested_at")
    )
    asked = {e.account_id for e in found}
    shown = (
        set(book_for_quota(tams, quarter=quarter).filter(pk__in=asked).values_list("pk", flat=True))
        if asked
        else set()
    )
    return [{"e": e, "may_decide": may_decide(e, user)} for e in found if e.account_id in shown]


def _teams(rows: list[TamTotals], quarter: dt.date) -> list[dict[str, Any]]:
    """Team totals by team lead: members' attainment against the prorated team quota."""
    by_lead: dict[int, list[TamTotals]] = defaultdict(list)
    by_user = {r.user.pk: r for r in rows}
    for r in rows:
        lead_id = r.user.team_lead_id or r.user.pk
        by_lead[lead_id].append(r)
    teams = []
    for lead_id, members in by_lead.items():
        if lead_id in by_user and by_user[lead_id] not in members:
            members.append(by_user[lead_id])
        lead = by_user[lead_id].user if lead_id in by_user else members[0].user.team_lead
        quota_total = team_quota(members=[m.user for m in members], quarter=quarter)
        attainment = sum((m.attainment for m in members), Decimal(0))
        teams.append(
            {
                "lead": lead,
                "members": len(members),
                "quota": quota_total,
                "attainment": attainment,
                "percent": (attainment / quota_total * 100).quantize(Decimal("0.1"))
                if quota_total
                else None,
            }
        )
    return sorted(teams, key=lambda t: str(t["lead"]))


class ImportForm(UploadForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        field.help_text = f"CSV with the header {','.join(HEADER)}. {field.help_text}"


@require_http_methods(["GET", "POST"])
def import_mrr(request: StaffRequest) -> HttpResponse:
    """RevOps upload of monthly revenue; every bad row is listed and nothing applied."""
    if not can_import_revenue(request.user):
        raise PermissionDenied(IMPORT_REFUSAL)
    form = ImportForm(request.POST or None, request.FILES or None)
    upload = Upload()
    if request.method == "POST" and form.is_valid():
        upload = handle_upload(
            request,
            form,
            kind=MonthlyRevenueImport.name,
            back_url=reverse("billing:import_mrr"),
            run=lambda text, dry_run: import_mrr_csv(text=text, dry_run=dry_run),
        )
        if upload.response is not None:
            return upload.response
        result = upload.result
        if result is not None and result.applied:
            messages.success(
                request,
                f"Imported {result.rows} rows: {result.created} new, {result.updated} updated.",
            )
            return redirect("billing:import_mrr")
    return render(
        request,
        "billing/import_mrr.html",
        {"form": form, "result": upload.result, "job": upload.job},
    )
