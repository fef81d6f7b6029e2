"""Token authentication for the JSON APIs that integrations call."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .models import IntegrationToken, User

TOKEN_BYTES = 32


def digest_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_integration_token(
    *, name: str, scope: str, created_by: User | None
) -> tuple[IntegrationToken, str]:
    """Create a token and return it with its raw value, which is never stored."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = IntegrationToken.objects.create(
        name=name, scope=scope, digest=digest_token(raw), prefix=raw[:8], created_by=created_by
    )
    return token, raw


def _token_from(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_required(
    scope: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Authenticate a JSON endpoint with an active integration token of ``scope``.

    The view receives the token as ``request.integration_token``. Session
    cookies play no part, so CSRF does not apply.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            raw = _token_from(request)
            token = (
                IntegrationToken.objects.filter(digest=digest_token(raw), is_active=True).first()
                if raw
                else None
            )
            if token is None:
                return JsonResponse({"error": "A valid bearer token is required."}, status=401)
            if token.scope != scope:
                return JsonResponse(
                    {"error": f"This token is not allowed to use the {scope} API."}, status=403
                )
            IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
            request.integration_token = token  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
