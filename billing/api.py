"""JSON API for monthly revenue, authenticated by a REVENUE integration token.

``POST /api/revenue/monthly/`` with ``{"rows": [{"organization_id", "product",
"month", "amount"}, …], "dry_run": false}`` imports rows exactly like the CSV
import (all or nothing, upsert). ``GET /api/revenue/monthly/?month=YYYY-MM
[&adjusted=1]`` returns the ``revenue_report`` JSON of that month.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from accounts.api import token_required
from accounts.models import IntegrationToken
from revopsweb.dates import parse_month

from .imports import import_mrr_records
from .reports import revenue_report

MAX_ROWS = 10_000


@token_required(IntegrationToken.Scope.REVENUE)
@require_http_methods(["GET", "POST"])
def monthly_revenue(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        try:
            month = parse_month(request.GET.get("month", ""))
        except ValueError as exc:
            return JsonResponse({"errors": [{"field": "month", "message": str(exc)}]}, status=400)
        adjusted = request.GET.get("adjusted", "") in {"1", "true", "yes"}
        return JsonResponse(revenue_report(month=month, adjusted=adjusted))
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"errors": [{"field": "body", "message": "Not JSON."}]}, status=400)
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return JsonResponse(
            {"errors": [{"field": "rows", "message": "A list of row objects is required."}]},
            status=400,
        )
    if len(rows) > MAX_ROWS:
        return JsonResponse(
            {"errors": [{"field": "rows", "message": f"At most {MAX_ROWS} rows."}]}, status=400
        )
    result = import_mrr_records(
        records=list(enumerate(rows, start=1)), dry_run=bool(body.get("dry_run"))
    )
    return JsonResponse(result.as_dict(), status=400 if result.errors else 200)
