from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the load balancer: the app answers and reaches its database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def coming_soon(request: HttpRequest, *, section: str, arrives_with: str) -> HttpResponse:
    """An honest placeholder for a section whose issue has not landed yet."""
    return render(
        request,
        "coming_soon.html",
        {"section": section, "arrives_with": arrives_with},
    )
