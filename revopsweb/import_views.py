"""What every import page shares: the upload's route (in the request or in the
background), the job's progress page and its errors as CSV.

An app's import page checks its permission, builds its ``UploadForm`` and
calls ``handle_upload``; it renders its own template with ``upload.result``
and ``upload.job`` (the stored result, whose errors are downloadable), or
returns ``upload.response`` (the progress page of a background run).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import JSONField
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from .csv_export import csv_response
from .import_jobs import record_result, refresh_job, start_import
from .imports import ImportKind, ImportResult, UploadForm
from .models import ImportJob

ERRORS_SHOWN = 100


@dataclass
class Upload:
    """How an upload went: a result to render, or a response to return."""

    result: ImportResult | None = None
    job: ImportJob | None = None
    response: HttpResponse | None = None


def handle_upload(
    request: HttpRequest,
    form: UploadForm,
    *,
    kind: str,
    back_url: str,
    run: Callable[[str, bool], ImportResult],
) -> Upload:
    """Route a valid upload of ``kind`` (an ``ImportKind.registry`` name).

    Up to ``IMPORT_SYNC_MAX_BYTES``: ``run(text, dry_run)`` in the request; a
    result with errors is stored so all of them can be downloaded. Larger:
    a background job, and a redirect to its progress page. Call after
    ``form.is_valid()``; a file that is not UTF-8 leaves a form error and no result.
    """
    text = form.text()
    if form.errors:
        return Upload()
    upload = form.cleaned_data["file"]
    dry_run: bool = form.cleaned_data["dry_run"]
    if upload.size > settings.IMPORT_SYNC_MAX_BYTES:
        job = start_import(
            kind=kind,
            data=text.encode("utf-8"),
            actor=request.user,
            file_name=upload.name or "",
            dry_run=dry_run,
            back_url=back_url,
        )
        return Upload(job=job, response=redirect("import_job", job_id=job.pk))
    result = run(text, dry_run)
    stored = None
    if result.errors:
        stored = record_result(
            kind=kind,
            result=result,
            actor=request.user,
            file_name=upload.name or "",
            dry_run=dry_run,
            back_url=back_url,
        )
    return Upload(result=result, job=stored)


def _own_job(request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
    """The job, if this person started it (or is a superuser); else 404."""
    jobs = ImportJob.objects.defer("data", "errors")
    if not request.user.is_superuser:
        jobs = jobs.filter(created_by=request.user.pk)
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import.")
    return job


@require_GET
def import_job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """A background import's progress, then its summary; htmx polls the status partial."""
    job = refresh_job(_own_job(request, job_id))
    first_errors = (
        ImportJob.objects.filter(pk=job.pk)
        .annotate(
            first=RawSQL(
                "jsonb_path_query_array(errors, %s)",
                [f"$[0 to {ERRORS_SHOWN - 1}]"],
                output_field=JSONField(),
            )
        )
        .values_list("first", flat=True)
        .get()
        if job.error_count
        else []
    )
    kind = ImportKind.registry.get(job.kind)
    context = {
        "job": job,
        "label": kind.label if kind else job.kind,
        "first_errors": first_errors,
        "errors_shown": ERRORS_SHOWN,
    }
    template = "imports/job.html#job-status" if request.htmx else "imports/job.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def import_job_errors(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Every error of an import as CSV: line, column, reason."""
    job = _own_job(request, job_id)
    errors = ImportJob.objects.filter(pk=job.pk).values_list("errors", flat=True).get()
    return csv_response(
        filename=f"import-errors-{job.kind}-{job.created_at:%Y%m%d-%H%M%S}.csv",
        header=["line", "column", "reason"],
        rows=errors,
    )
