"""The pages and the JSON API that every billing fact kind gets (``billing.facts``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.api import token_required
from accounts.http import StaffRequest
from revopsweb import parsing
from revopsweb.import_views import Upload, handle_upload
from revopsweb.imports import RowError, UploadForm
from revopsweb.jsonapi import BodyError, error, read_json_object

from .facts import FACT_KINDS, FactImport
from .permissions import FACTS_IMPORT_REFUSAL, can_import_billing_facts


def _kind_or_404(name: str) -> type[FactImport[Any]]:
    kind = FACT_KINDS.get(name)
    if kind is None:
        raise Http404("No such billing fact kind.")
    return kind


@require_GET
def fact_imports(request: StaffRequest) -> HttpResponse:
    """Every fact kind with its columns and a link to its import page."""
    if not can_import_billing_facts(request.user):
        raise PermissionDenied(FACTS_IMPORT_REFUSAL)
    return render(request, "billing/fact_imports.html", {"kinds": list(FACT_KINDS.values())})


@require_http_methods(["GET", "POST"])
def fact_import(request: StaffRequest, name: str) -> HttpResponse:
    """One kind's CSV upload: dry run by default, every bad row listed, all or nothing;
    a large file runs in the background with a progress page (``handle_upload``)."""
    if not can_import_billing_facts(request.user):
        raise PermissionDenied(FACTS_IMPORT_REFUSAL)
    kind = _kind_or_404(name)
    form = UploadForm(request.POST or None, request.FILES or None)
    field = form.fields["file"]
    field.help_text = f"CSV with the header {','.join(kind.header)}. {field.help_text}"
    upload = Upload()
    if request.method == "POST" and form.is_valid():
        upload = handle_upload(
            request,
            form,
            kind=kind.name,
            back_url=reverse("billing:fact_import", kwargs={"name": kind.name}),
            run=lambda text, dry_run: kind(actor=request.user, source="import").run_csv(
                text, dry_run=dry_run
            ),
        )
        if upload.response is not None:
            return upload.response
        result = upload.result
        if result is not None and result.applied:
            messages.success(
                request,
                f"{kind.label}: imported {result.rows} rows, {result.created} new, "
                f"{result.updated} updated.",
            )
            return redirect("billing:fact_import", name=kind.name)
    return render(
        request,
        "billing/fact_import.html",
        {"kind": kind, "form": form, "result": upload.result, "job": upload.job},
    )


def fact_api(kind: type[FactImport[Any]]) -> Callable[..., HttpResponse]:
    """``POST /api/billing/<kind.name>/``, authenticated by a token of ``kind.scope``.

    Body ``{"rows": [{column: value}], "dry_run": false}``; answers the import
    result (200) or its errors (400: ``{"errors": [{line, column, message}]}``,
    ``line`` being the row's position from 1), nothing applied on any error.
    """

    @token_required(kind.scope)
    @require_POST
    def view(request: HttpRequest) -> HttpResponse:
        try:
            body = read_json_object(request)
        except BodyError as exc:
            return exc.response
        for field in sorted(set(body) - {"rows", "dry_run"}):
            return error(400, field, "Unknown field.")
        rows = body.get("rows")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return error(400, "rows", "A list of row objects is required.")
        if len(rows) > kind.max_rows:
            return error(413, "rows", f"At most {kind.max_rows:,} rows per request.")
        try:
            dry_run = parsing.parse_boolean(body.get("dry_run", False))
        except ValueError as exc:
            return error(400, "dry_run", str(exc))
        # A misspelt column would otherwise be silently ignored (or read as missing).
        unknown = [
            RowError(n, column, "Unknown column.")
            for n, row in enumerate(rows, start=1)
            for column in sorted(set(row) - set(kind.header))
        ]
        result = kind(source="api").run(
            list(enumerate(rows, start=1)), dry_run=dry_run or bool(unknown)
        )
        if unknown:
            result.errors = sorted([*unknown, *result.errors], key=lambda e: e.line)
            result.applied = False
        return JsonResponse(result.as_dict(), status=400 if result.errors else 200)

    view.__name__ = f"{kind.name}_api"
    return view
