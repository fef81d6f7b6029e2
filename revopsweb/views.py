from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

# A health check answers quickly even when a part is unreachable (not refused).
HEALTH_TIMEOUT_SECONDS = 2


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis_check(url: str) -> Callable[[], None]:
    def check() -> None:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=HEALTH_TIMEOUT_SECONDS,
            socket_timeout=HEALTH_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()

    return check


def _checks() -> dict[str, Callable[[], None]]:
    """The parts this deployment needs, by name: the database always; the cache
    and the Celery broker when they are Redis (the quick start has neither)."""
    checks = {"database": _check_database}
    cache = settings.CACHES["default"]
    if "redis" in str(cache["BACKEND"]).lower():
        checks["cache"] = _redis_check(str(cache["LOCATION"]))
    if str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://")):
        checks["broker"] = _redis_check(settings.CELERY_BROKER_URL)
    return checks


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, which browsers ask for on pages that name no icon (the admin's,
    a CSV opened in a tab): the app's icon, where it used to be a 404 in every log."""
    return HttpResponseRedirect(static("img/favicon.svg"))


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Health of the app and each part it needs.

    200 ``{"status": "ok", "checks": {"database": "ok", "cache": "ok", "broker": "ok"}}``
    when all answer; 503 ``{"status": "down", "down": ["cache", "broker"], "checks":
    {..., "cache": "ConnectionError: …"}}`` naming each part that does not.
    Pages keep working without the cache (they compute instead), but nothing
    is queued without the broker, so a down Redis is reported as down.
    """
    results: dict[str, str] = {}
    for name, check in _checks().items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure of a part is that part being down
            logger.warning("Health check: %s is down: %s", name, exc)
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
    down = [name for name, result in results.items() if result != "ok"]
    if down:
        return JsonResponse({"status": "down", "down": down, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})
