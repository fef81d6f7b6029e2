"""Who is asking: the client's address behind trusted proxies, and the login name.

One rule for every per-client limit (login throttling by django-axes, the
contact form's rate limit by django-ratelimit): the app trusts exactly
``TRUSTED_PROXY_COUNT`` reverse proxies in front of it. Each proxy appends the
address it received the request from to ``X-Forwarded-For``, so with N trusted
proxies the client is the N-th entry from the right; entries further left were
sent by the client and may be forged. With no trusted proxy the header is
ignored and ``REMOTE_ADDR`` is the client.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .parsing import normalise_email


def _valid(address: str) -> str:
    """``address`` when it is an IPv4/IPv6 address, else ""."""
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as a string (never empty, never a list).

    ``REMOTE_ADDR`` when ``settings.TRUSTED_PROXY_COUNT`` is 0 or the header is
    missing or malformed; the N-th ``X-Forwarded-For`` entry from the right
    behind N trusted proxies; the leftmost entry when the chain is shorter than
    N (the request skipped a proxy layer; that is still the farthest address
    a trusted proxy recorded). Used by ``AXES_CLIENT_IP_CALLABLE`` and
    ``RATELIMIT_IP_META_KEY``.
    """
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"
    trusted = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    chain = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if not chain:
        return remote
    picked = chain[-trusted] if len(chain) >= trusted else chain[0]
    return _valid(picked) or remote


def login_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str:
    """The e-mail a login attempt names, normalised (``AXES_USERNAME_CALLABLE``).

    The login form posts it as ``username`` (Django's AuthenticationForm, whatever
    the user model's USERNAME_FIELD), and staff log in with any capitalisation of
    their e-mail, so ``Ana@x`` and ``ana@x`` count as one account's failures.
    """
    raw = (credentials or {}).get("username") or request.POST.get("username", "")
    return normalise_email(str(raw))
