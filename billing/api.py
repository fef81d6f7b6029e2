"""JSON API for monthly revenue, authenticated by a REVENUE integration token.

``POST /api/revenue/monthly/`` with ``{"rows": [{"organization_id", "product",
"month", "amount"}, …], "dry_run": false}`` imports rows exactly like the CSV
import (same row form, all or nothing, upsert); 400 with row errors, 413 for
more than ``MAX_ROWS`` rows or a body over ``API_MAX_BODY_BYTES``. ``GET /api/revenue/monthly/?month=YYYY-MM
[&adjusted=1]`` returns the ``revenue_report`` JSON of that month.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_http_methods

from accounts.api import token_required
from accounts.models import IntegrationToken
from revopsweb import parsing
from revopsweb.dates import company_today
from revopsweb.jsonapi import BodyError, read_json_object

from .imports import import_mrr_records
from .reports import revenue_report
from .revenue_data import revenue_data_through

MAX_ROWS = 10_000


def _error(status: int, field: str, message: str) -> JsonResponse:
    """This API's error shape: ``{"errors": [{"field", "message"}]}`` (rows: ``line, column``)."""
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)


@token_required(IntegrationToken.Scope.REVENUE)
@require_http_methods(["GET", "POST"])
def monthly_revenue(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        try:
            month = parsing.parse_month(request.GET.get("month", ""))
        except ValueError as exc:
            return _error(400, "month", str(exc))
        data = revenue_data_through(today=company_today())
        if not data.has(month):
            return _error(422, "month", f"{month:%B %Y} is not imported yet. {data.note}")
        adjusted = request.GET.get("adjusted", "") in {"1", "true", "yes"}
        return JsonResponse(revenue_report(month=month, adjusted=adjusted))
    try:
        body = read_json_object(request)
    except BodyError as exc:
        return _error(exc.status, exc.field, exc.message)
    for name in sorted(set(body) - {"rows", "dry_run"}):
        return _error(400, name, "Unknown field.")
    rows = body.get("rows")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return _error(400, "rows", "A list of row objects is required.")
    if len(rows) > MAX_ROWS:
        return _error(413, "rows", f"At most {MAX_ROWS:,} rows per request.")
    try:
        dry_run = parsing.parse_boolean(body.get("dry_run", False))
    except ValueError as exc:
        return _error(400, "dry_run", str(exc))
    result = import_mrr_records(records=list(enumerate(rows, start=1)), dry_run=dry_run)
    return JsonResponse(result.as_dict(), status=400 if result.errors else 200)
