"""``POST /api/intake/tasks``: webhooks create tasks (token scope "intake")."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from accounts.api import token_required
from accounts.models import IntegrationToken

from .forms import ApiIntakeForm
from .intake import IntakeResult, intake_task


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
    before; 400 with every field error and nothing created for a bad payload.
    """
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"errors": {"__all__": ["The body is not valid JSON."]}}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"errors": {"__all__": ["Send one JSON object."]}}, status=400)
    form = ApiIntakeForm({k: v for k, v in body.items() if v is not None})
    unknown = sorted(set(body) - set(form.fields))
    valid = form.is_valid()
    errors: dict[str, list[str]] = {
        field: [e["message"] for e in items] for field, items in form.errors.get_json_data().items()
    }
    for name in unknown:
        errors[name] = ["Unknown field."]
    if not valid or unknown:
        return JsonResponse({"errors": errors}, status=400)
    key = request.headers.get("Idempotency-Key", "").strip() or form.cleaned_data["idempotency_key"]
    result = intake_task(
        lead=form.to_lead(organization_id=form.cleaned_data["organization_id"]),
        source=form.cleaned_data["source"],
        lead_type=form.cleaned_data["lead_type"],
        idempotency_key=key or None,
    )
    return JsonResponse(_payload(result), status=201 if result.created else 200)
