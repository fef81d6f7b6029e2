"""``POST /api/intake/tasks``: webhooks create tasks (token scope "intake")."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from accounts.api import token_required
from accounts.models import IntegrationToken
from revopsweb.jsonapi import BodyError, error, form_errors, read_json_object

from .forms import ApiIntakeForm
from .intake import IdempotencyKeyReused, IntakeResult, intake_task


def _payload(result: IntakeResult) -> dict[str, Any]:
    task = result.task
    assignee = task.assignee
    return {
        "task_id": task.pk,
        "created": result.created,
        "status": task.status,
        "assignee": (
            {"id": assignee.pk, "name": assignee.name, "email": assignee.email}
            if assignee
            else None
        ),
        "explanation": task.explanation,
        "unassigned_reason": task.unassigned_reason,
        "score": task.score,
        "score_breakdown": task.score_breakdown,
    }


@token_required(IntegrationToken.Scope.INTAKE)
@require_POST
def intake_tasks(request: HttpRequest) -> JsonResponse:
    """Create (or, for a repeated idempotency key, return) a task and its assignment.

    201 with the task id, assignee and explanation; 200 with the first result
    when the ``Idempotency-Key`` header (or ``idempotency_key`` field) was seen
    before from the same token with the same lead; 422 when that key came with
    a different lead; 400 with every field error (413 for a body over
    ``API_MAX_BODY_BYTES``) and nothing created for a bad payload.
    """
    try:
        body = read_json_object(request)
    except BodyError as exc:
        return exc.response
    data = {k: v for k, v in body.items() if v is not None}
    header_key = request.headers.get("Idempotency-Key")
    if header_key is not None:
        # The header wins over the body field, and is validated like it (length, NUL).
        data["idempotency_key"] = header_key
    form = ApiIntakeForm(data)
    valid = form.is_valid()
    errors = form_errors(form, unknown=body)
    if not valid or errors:
        return JsonResponse({"errors": errors}, status=400)
    token = request.integration_token  # type: ignore[attr-defined]
    try:
        result = intake_task(
            lead=form.to_lead(organization_id=form.cleaned_data["organization_id"]),
            source=form.cleaned_data["source"],
            lead_type=form.cleaned_data["lead_type"],
            idempotency_key=form.cleaned_data["idempotency_key"] or None,
            idempotency_scope=f"token:{token.pk}",
            request_digest=request_digest(form.cleaned_data),
        )
    except IdempotencyKeyReused:
        return error(
            422,
            "idempotency_key",
            "This key was already used for a different request; use a new key.",
        )
    return JsonResponse(_payload(result), status=201 if result.created else 200)


def request_digest(cleaned: dict[str, Any]) -> str:
    """A digest of what the request asks for (its cleaned fields, key excluded)."""
    fields = {k: str(v) for k, v in sorted(cleaned.items()) if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
